"""`data.<name>.source`: a URL DVC imports or an ingest command DVC runs; refusals are located,
and an ingest command compiles to the stage every reader of the dataset runs after."""

from __future__ import annotations

import pytest

from mlcode.compile.dvc import dvc_data
from mlcode.errors import SpecError
from mlcode.spec import semantic
from mlcode.spec.load import parse_spec
from mlcode.spec.model import CmdSource, MlSpec, UrlSource
from mlcode.spec.yamlsource import parse

HEAD = """\
version: 1
project: demo
data:
  sales:
    path: data/sales.csv
    target: y
    features: {numeric: [a, b]}
"""
MODEL = """\
models:
  m:
    task: regression
    data: sales
    estimator: sklearn.linear_model.LinearRegression
"""


def _spec(source: str, tail: str = "") -> MlSpec:
    return parse_spec(parse(HEAD + f"    source: {source}\n" + MODEL + tail, "ml.yaml"))


def _refused(source: str) -> tuple[int, str, str]:
    with pytest.raises(SpecError) as caught:
        _spec(source)
    (problem,) = caught.value.problems
    return problem.location.line, problem.field, problem.message


def test_url_and_cmd_sources_parse() -> None:
    assert _spec('{url: "s3://bucket/sales.csv"}').data["sales"].source == UrlSource(
        url="s3://bucket/sales.csv"
    )
    cmd = _spec("{cmd: python ingest.py, deps: [ingest.py]}").data["sales"].source
    assert isinstance(cmd, CmdSource)
    assert cmd.deps == ["ingest.py"]
    assert isinstance(_spec("{url: ../shared/sales.csv}").data["sales"].source, UrlSource)


@pytest.mark.parametrize(
    ("source", "field", "fragment"),
    [
        ("{url: s3://b/x.csv, cmd: x}", "data.sales.source", "either `url`"),
        ("{}", "data.sales.source", "needs `url`"),
        ("{url: 'https://me:hunter2@host/x.csv'}", "data.sales.source.url", "password"),
        ("{url: 'https://host/x.csv?X-Amz-Signature=abc'}", "data.sales.source.url", "secret"),
        ("{url: ftp://host/x.csv}", "data.sales.source.url", "cannot import from ftp://"),
        ("{url: data/other.csv}", "data.sales.source.url", "inside the repository"),
        ("{cmd: x, deps: [../outside.py]}", "data.sales.source.deps[0]", "leaves the repository"),
        ("{cmd: x, outs: [a]}", "data.sales.source.outs", "unknown key 'outs'"),
    ],
)
def test_bad_sources_are_located(source: str, field: str, fragment: str) -> None:
    line, where, message = _refused(source)
    assert (line, where) == (8, field)
    assert fragment in message
    assert "hunter2" not in message
    assert "abc" not in message


def test_ingest_of_own_output_and_stage_name_collision() -> None:
    tail = "stages:\n  ingest_sales:\n    cmd: echo hi\n"
    src = parse(HEAD + "    source: {cmd: x, deps: [data/sales.csv]}\n" + MODEL + tail, "ml.yaml")
    problems = semantic.check(parse_spec(src), src.positions)
    assert [(p.location.line, p.field) for p in problems] == [
        (8, "data.sales.source.deps[0]"),
        (15, "stages.ingest_sales"),
    ]
    assert "its own output" in problems[0].message
    assert "ingest command" in problems[1].message


def test_ingest_stage_comes_first_and_owns_the_dataset() -> None:
    stages = dvc_data(_spec("{cmd: python ingest.py, deps: [ingest.py]}"))["stages"]
    assert next(iter(stages)) == "ingest_sales"
    assert stages["ingest_sales"] == {
        "cmd": "python ingest.py",
        "deps": ["ingest.py"],
        "outs": ["data/sales.csv"],
    }
    assert "data/sales.csv" in stages["prepare_m"]["deps"]
    assert "ingest_sales" not in dvc_data(_spec('{url: "s3://b/x.csv"}'))["stages"]
    always = dvc_data(_spec("{cmd: python fetch.py, always_changed: true}"))["stages"]
    assert always["ingest_sales"] == {
        "cmd": "python fetch.py",
        "outs": ["data/sales.csv"],
        "always_changed": True,
    }


def test_json_schema_knows_sources() -> None:
    import jsonschema

    from mlcode.spec.jsonschema import ml_schema

    validator = jsonschema.Draft202012Validator(ml_schema())
    doc = {"version": 1, "project": "demo", "data": {"s": {"path": "s.csv"}}}
    for source, ok in [
        ({"url": "s3://b/s.csv"}, True),
        ({"cmd": "python ingest.py", "deps": ["ingest.py"], "always_changed": True}, True),
        ({"url": "s3://b/s.csv", "cmd": "x"}, False),
        ({"path": "s.csv"}, False),
    ]:
        doc["data"]["s"]["source"] = source  # type: ignore[index]
        assert validator.is_valid(doc) is ok, source
