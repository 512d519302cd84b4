"""Apply's checks before the first write: validate's pure mirror of what DVC's loader refuses
(interpolation in commands, overlapping outputs) agrees with DVC's own loader on the compiled
dvc.yaml, over good and bad stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.adapters import dvc
from mlcode.compile import compile_project
from mlcode.project.preflight import pure_problems
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.yamlsource import parse

HEAD = """\
version: 1
project: p
data:
  iris:
    path: data/iris.csv
    target: species
    features: {numeric: [a, b]}
models:
  iris:
    task: classification
    data: iris
    estimator: sklearn.ensemble.RandomForestClassifier
    params: {max_depth: 5}
stages:
  report:
"""

# (stage body under `report:`, DVC accepts it)
CASES = [
    ("    cmd: echo ${iris.params.max_depth}\n", True),
    ("    cmd: echo ${iris[params][max_depth]}\n", True),
    ("    cmd: echo ${ iris.task }\n", True),
    ("    cmd: echo \\${not.interpolated}\n", True),
    ("    cmd: echo ${iris.split}\n", True),  # a dict becomes --key value options in a cmd
    ("    cmd: echo ${unclosed\n", True),
    ("    cmd: [echo ok, 'echo ${iris.task}']\n", True),
    ("    vars: [{n: 3}]\n    cmd: echo ${n}\n", True),
    ("    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n", True),
    ("    cmd: echo ${nowhere}\n", False),
    ("    cmd: echo ${iris.params.depth}\n", False),
    ("    cmd: echo ${iris..task}\n", False),
    ("    cmd: echo ${}\n", False),
    ("    cmd: echo ${iris[task}\n", False),
    ("    cmd: echo ${.iris}\n", False),
    ("    cmd: echo ${iris.metrics}\n", False),  # a list cannot go into a command
    ("    cmd: [echo ok, 'echo ${nope}']\n", False),
    ("    vars: [{n: 3}]\n    cmd: echo ${m}\n", False),
    ("    foreach: [a, b]\n    do:\n      cmd: echo ${item..x}\n", False),
    ("    cmd: echo\n    outs: [reports/r.txt]\n", True),
    ("    cmd: echo\n    outs: [models/iris]\n", False),  # the train stage's output
    ("    cmd: echo\n    outs: [models]\n", False),  # contains it
    ("    cmd: echo\n    outs: [models/iris/extra.bin]\n", False),  # inside it
    ("    cmd: echo\n    metrics: [{metrics/iris.json: {cache: false}}]\n", False),
    ("    cmd: echo\n    wdir: models\n    outs: [iris]\n", False),
]


@pytest.mark.slow
@pytest.mark.parametrize(("body", "accepted"), CASES)
def test_validate_mirrors_dvcs_own_loader(body: str, accepted: bool, tmp_path: Path) -> None:
    source = parse(HEAD + body, "ml.yaml")
    spec = parse_spec(source)
    stack = parse_stack(load_file(str(stack_presets()["local"]), "local"))
    compiled = compile_project(spec, stack)
    files = {p: compiled[p] for p in ("dvc.yaml", "params.yaml")}
    by_dvc = dvc.parse_problem(tmp_path, files, [])
    by_mlcode = pure_problems(spec, source.positions)
    assert (by_dvc is None) == accepted, by_dvc
    assert (not by_mlcode) == accepted, by_mlcode
    for problem in by_mlcode:
        assert problem.field.startswith("stages.report.")
        assert problem.location.line >= 15


def test_syntax_only_where_values_are_unknowable() -> None:
    """A stage reading a vars file: names cannot be checked without it, syntax still is."""
    from mlcode.compile import interpolation

    assert interpolation.expression_problem("echo ${anything}", None) is None
    assert interpolation.expression_problem("echo ${a..b}", None) is not None
