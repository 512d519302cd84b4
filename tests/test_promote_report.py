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


def test_pr_body_images_point_at_the_committed_files() -> None:
    """A PR body is resolved relative to no branch: its images use the forge's raw-file URL."""
    from mlcode.promote.report import absolute_images

    text = (
        "![age](drift-plots/001-age.svg) and ![x](https://example.org/x.png)\n"
        "[a link](drift-plots/001-age.svg) ![anchor](#top) ![abs](/root.svg)\n"
    )
    seen: list[str] = []

    def url_of(rel: str) -> str:
        seen.append(rel)
        return f"https://forge.test/raw/{rel}"

    out = absolute_images(text, url_of)
    assert seen == ["drift-plots/001-age.svg"]
    assert "![age](https://forge.test/raw/drift-plots/001-age.svg)" in out
    assert "![x](https://example.org/x.png)" in out
    assert "[a link](drift-plots/001-age.svg)" in out  # links are not images: left alone
    assert absolute_images(text, lambda rel: None) == text  # forge none: relative, as committed


def test_forges_raw_file_urls() -> None:
    from mlcode.forge.github import GitHubForge
    from mlcode.forge.gitlab import GitLabForge
    from mlcode.forge.none import NoForge

    path = "reports/iris/v0.2.0/drift-plots/001-sepal length.svg"
    hub = GitHubForge(None, "org", "repo", "https://github.com")  # type: ignore[arg-type]
    assert hub.file_url("abc123", path) == (
        "https://github.com/org/repo/blob/abc123/reports/iris/v0.2.0/drift-plots/"
        "001-sepal%20length.svg?raw=true"
    )
    lab = GitLabForge(None, "group/sub/proj", "https://gitlab.example")  # type: ignore[arg-type]
    assert lab.file_url("abc123", "r/a.svg") == (
        "https://gitlab.example/group/sub/proj/-/raw/abc123/r/a.svg"
    )
    assert NoForge().file_url("abc123", path) is None


def test_a_retrain_reason_is_in_the_report_and_plain_promote_says_none() -> None:
    """`mlcode retrain` hands promote the decision it made; the report says why, right under the
    title. A plain promotion (no reason) says nothing of the kind."""
    why = "data changed (md5 1a2b3c4d → 5e6f7a8b)"
    text = compose("iris", "0.2.0", "## mlcode gates: passed\n", "", "main", reason=why)
    assert f"Retrained because: {why}." in text.splitlines()
    assert text.index("Retrained because") < text.index("## mlcode gates")
    assert "Retrained because" not in compose("iris", "0.2.0", "## mlcode gates\n", "", "main")
