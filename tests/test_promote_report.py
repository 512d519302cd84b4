"""The promotion report: the gate table then the drift report, its charts beside it, and a pull
request body that fits the forge's limit."""

from __future__ import annotations

from mlcode.promote.report import BODY_LIMIT, compose, pr_body, report_files


def test_report_holds_gates_then_drift_and_its_charts_beside_it() -> None:
    text = compose("iris", "v0.2.0", "## mlcode gates: passed\n", "### Data drift: iris\n", "main")
    assert text.startswith("# Promotion of `iris` v0.2.0\n")
    assert (
        text.index("## mlcode gates: passed")
        < text.index("## Drift")
        < text.index("### Data drift")
    )
    files = report_files("iris", "v0.2.0", text, {"drift-plots/001-a.svg": b"<svg/>"})
    assert files == {
        "reports/iris/v0.2.0/promotion.md": text.encode(),
        "reports/iris/v0.2.0/drift-plots/001-a.svg": b"<svg/>",
    }


def test_no_drift_section_without_a_drift_report() -> None:
    assert "## Drift" not in compose("iris", "0.1.0", "gates", "", "main")


def test_body_is_cut_to_fit_and_names_the_whole_report() -> None:
    short = "x" * 100
    assert pr_body(short, "reports/iris/v0.1.0/promotion.md") == short
    body = pr_body("y" * (BODY_LIMIT * 2), "reports/iris/v0.1.0/promotion.md")
    assert len(body) < 65_536
    assert body.rstrip().endswith("the whole report is `reports/iris/v0.1.0/promotion.md`)")
