"""The `mlcode run` report's pure core: reading metrics and drift files, merging DVC's diffs,
and rendering, including every way a file or a diff can be wrong."""

from __future__ import annotations

import pytest

from mlcode.adapters.dvc import _unreadable
from mlcode.project import metrics_table
from mlcode.project.metrics_table import (
    DriftVerdict,
    MetricChange,
    MetricsFile,
    ParamChange,
    ParamsDiff,
    Report,
    parse_drift,
    parse_metrics,
)

PATH = "metrics/m.json"


def test_a_missing_metrics_file_is_no_metrics_yet() -> None:
    read = parse_metrics(PATH, None, ("accuracy",))
    assert read == MetricsFile(PATH, "missing")
    table = metrics_table.build({"m": PATH}, {"m": read}, {})
    assert table == {"m": {}}
    assert "no metrics yet" in metrics_table.render(table, files={"m": read})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{bad", "metrics/m.json is not JSON (line 1 column 2: "),
        ("", "metrics/m.json is not JSON (line 1 column 1: "),
        ("[0.9]", "metrics/m.json is a list, not a JSON object"),
        ('"0.9"', "metrics/m.json is a string, not a JSON object"),
        ("null", "metrics/m.json is null, not a JSON object"),
        ("{}", "metrics/m.json holds no numeric metric"),
        ('{"name": "forest"}', "metrics/m.json holds no numeric metric"),
    ],
)
def test_a_malformed_metrics_file_is_unreadable_with_its_reason(text: str, reason: str) -> None:
    read = parse_metrics(PATH, text)
    assert read.state == "unreadable"
    assert read.reason is not None
    assert read.reason.startswith(reason)
    table = metrics_table.build({"m": PATH}, {"m": read}, {})
    rendered = metrics_table.render(table, files={"m": read})
    assert f"unreadable: {read.reason}" in rendered
    assert "no metrics yet" not in rendered


def test_bad_values_are_marked_per_metric() -> None:
    text = '{"a": NaN, "b": Infinity, "c": -Infinity, "d": "x", "e": [1], "f": null, "g": 0.5}'
    read = parse_metrics(PATH, text, ("a", "b", "c", "d", "e", "f", "g", "h"))
    assert read.state == "ok"
    assert read.values == {"g": 0.5}
    assert read.errors == {
        "a": "unreadable: nan is not a finite number",
        "b": "unreadable: inf is not a finite number",
        "c": "unreadable: -inf is not a finite number",
        "d": 'unreadable: a string ("x"), not a number',
        "e": "unreadable: a list ([1]), not a number",
        "f": "unreadable: null (null), not a number",
        "h": "missing from metrics/m.json",
    }
    table = metrics_table.build({"m": PATH}, {"m": read}, {}, order={"m": ("g", "a")})
    assert list(table["m"]) == ["g", "a", "b", "c", "d", "e", "f", "h"]
    assert table["m"]["a"] == MetricChange(
        None, None, None, "unreadable: nan is not a finite number"
    )
    assert table["m"]["g"] == MetricChange(0.5, 0.5, 0.0)
    text_out = metrics_table.render(table)
    assert "missing from metrics/m.json" in text_out


def test_undeclared_strings_are_ignored_and_nested_keys_joined_like_dvc() -> None:
    read = parse_metrics(PATH, '{"name": "x", "per": {"a": {"f1": 0.5}}, "ok": true}', ("f1",))
    assert read.values == {"per.a.f1": 0.5, "ok": 1.0}
    assert read.errors == {"f1": "missing from metrics/m.json"}


def test_an_unreadable_baseline_is_unknown_never_new() -> None:
    read = parse_metrics(PATH, '{"f1": 0.9, "acc": 0.8}')
    diff = {PATH: {"f1": {"old": None, "new": 0.9}, "acc": {"old": 0.7, "new": 0.8, "diff": 0.1}}}
    table = metrics_table.build({"m": PATH}, {"m": read}, diff, baseline_unreadable=True)
    assert table["m"]["f1"] == MetricChange(0.9, None, None, "unknown: DVC could not read HEAD")
    assert table["m"]["acc"] == MetricChange(0.8, 0.7, 0.1)
    rendered = metrics_table.render(table)
    assert "new (not in HEAD)" not in rendered
    # The same diff from a readable HEAD: the file really is new there.
    fresh = metrics_table.build({"m": PATH}, {"m": read}, diff)
    assert fresh["m"]["f1"] == MetricChange(0.9, None, None)
    assert "new (not in HEAD)" in metrics_table.render(fresh)


def test_a_non_numeric_old_value_is_unknown() -> None:
    read = parse_metrics(PATH, '{"f1": 0.9}')
    diff = {PATH: {"f1": {"old": "NaN?", "new": 0.9}}}
    table = metrics_table.build({"m": PATH}, {"m": read}, diff)
    assert table["m"]["f1"].error == 'unknown: HEAD has "NaN?"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "not run"),
        (
            '{"drifted_share": 0.0, "drifted_columns": 0, "columns": 4, "dataset_drift": false}',
            "none (0/4 columns drifted)",
        ),
        (
            '{"drifted_share": 0.2, "drifted_columns": 2, "columns": 10, "dataset_drift": false}',
            "2/10 columns drifted (share 0.20)",
        ),
        (
            '{"drifted_share": 0.6, "drifted_columns": 3, "columns": 5, "dataset_drift": true}',
            "3/5 columns drifted (share 0.60), dataset drift",
        ),
        ("{oops", "unreadable: metrics/m-drift.json is not JSON (Expecting"),
        ("[]", "unreadable: metrics/m-drift.json is a list, not a JSON object"),
        (
            '{"drifted_share": 0.2, "drifted_columns": "2", "columns": 10, "dataset_drift": false}',
            "unreadable: metrics/m-drift.json: drifted_columns and columns must be whole numbers",
        ),
        (
            '{"drifted_share": 0.2, "drifted_columns": 11, "columns": 10, "dataset_drift": true}',
            "unreadable: metrics/m-drift.json: drifted_columns (11) is more than columns (10)",
        ),
        (
            '{"drifted_share": NaN, "drifted_columns": 1, "columns": 10, "dataset_drift": false}',
            "unreadable: metrics/m-drift.json: drifted_share must be a number from 0 to 1, got NaN",
        ),
        (
            '{"drifted_share": 0.1, "drifted_columns": 1, "columns": 10, "dataset_drift": 0}',
            "unreadable: metrics/m-drift.json: dataset_drift must be true or false, got 0",
        ),
    ],
)
def test_drift_verdict(text: str | None, expected: str) -> None:
    assert parse_drift("metrics/m-drift.json", text).text().startswith(expected)


def test_params_are_split_by_model_and_an_unreadable_side_is_unknown() -> None:
    data = {
        "params.yaml": {
            "a.params.n": {"old": 100, "new": 50, "diff": -50},
            "a.metrics": {"old": "['f1']", "new": "['f1', 'acc']"},
            "b.split.seed": {"old": None, "new": 3},
            "other_stage.x": {"old": 1, "new": 2},
        }
    }
    split = metrics_table.params_by_model(data, ["a", "b"], set(), "HEAD")
    assert split["a"] == ParamsDiff(
        (ParamChange("metrics", "['f1']", "['f1', 'acc']"), ParamChange("params.n", 100, 50))
    )
    assert split["b"] == ParamsDiff((ParamChange("split.seed", None, 3),))
    # HEAD unreadable: an entry whose old side is null is not a change we know of.
    unknown = metrics_table.params_by_model(data, ["a", "b"], {"HEAD"}, "HEAD")
    assert unknown["b"] == ParamsDiff((), "unknown: DVC could not read HEAD")
    assert len(unknown["a"].changed) == 2
    both = metrics_table.params_by_model(data, ["a"], {"HEAD", "workspace"}, "HEAD")
    assert both["a"].error == "unknown: DVC could not read HEAD and the workspace"
    assert metrics_table.params_by_model(None, ["a"], set(), "HEAD") == {"a": ParamsDiff()}


def test_dvc_warnings_name_the_revisions_it_could_not_read() -> None:
    # Captured from DVC 3.67 (`dvc metrics diff HEAD --json`, exit 0).
    lock = (
        "WARNING: failed to load metrics in revision 'HEAD', unable to read: 'dvc.lock', "
        "YAML file structure is corrupted\n"
        "DVC failed to load some metrics for following revisions: 'HEAD'.\n"
    )
    assert _unreadable(lock, "HEAD") == {
        "HEAD": "failed to load metrics in revision 'HEAD', unable to read: 'dvc.lock', "
        "YAML file structure is corrupted"
    }
    only_summary = "DVC failed to load some metrics for following revisions: 'HEAD', 'workspace'.\n"
    assert set(_unreadable(only_summary, "HEAD")) == {"HEAD", "workspace"}
    assert _unreadable("", "HEAD") == {}
    unknown_wording = "ERROR: Failed to load the metrics somehow\n"
    assert set(_unreadable(unknown_wording, "HEAD")) == {"HEAD", "workspace"}


def test_report_renders_params_drift_and_warnings() -> None:
    read = parse_metrics(PATH, '{"f1": 0.9}')
    table = metrics_table.build({"m": PATH, "n": "metrics/n.json"}, {"m": read, "n": None}, {})
    report = Report(
        baseline="HEAD",
        table=table,
        files={"m": read, "n": MetricsFile("metrics/n.json", "missing")},
        params={
            "m": ParamsDiff((ParamChange("params.n", 100, 50), ParamChange("params.x", None, 1))),
            "n": ParamsDiff((), "unknown: DVC could not read HEAD"),
        },
        drift={"m": DriftVerdict("ok", 2, 10, 0.2, False), "n": DriftVerdict("not run")},
        warnings=("failed to load params in revision 'HEAD', oops",),
    )
    text = metrics_table.render_report(report)
    assert text.splitlines()[1].split() == ["m", "f1", "0.9000", "no", "change"]
    assert "m  params changed vs HEAD: params.n 100 -> 50, params.x (absent) -> 1" in text
    assert "m  drift: 2/10 columns drifted (share 0.20)" in text
    assert "n  params vs HEAD: unknown: DVC could not read HEAD" in text
    assert "n  drift: not run" in text
    assert "DVC: failed to load params in revision 'HEAD', oops" in text
    data = report.to_json()
    assert data["params"]["m"]["changed"]["params.n"] == {"old": 100, "new": 50}
    assert data["drift"]["m"]["text"] == "2/10 columns drifted (share 0.20)"
    assert data["metrics_files"]["n"] == {
        "path": "metrics/n.json",
        "state": "missing",
        "reason": None,
    }
