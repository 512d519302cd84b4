"""`validate` refuses drift settings the drift step could not run, located in ml.yaml: a
`max_drifted_share` outside (0, 1], and `ks` / `wasserstein` on a categorical column."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.errors import Problem
from mlcode.spec import semantic
from mlcode.spec.load import parse_spec
from mlcode.spec.yamlsource import parse
from tests.e2e.helpers import mlcode

SPEC = """\
version: 1
project: demo
data:
  customers:
    path: data/customers.csv
    target: churned
    features:
      numeric: [age, tenure]
      categorical: [plan, region]
  latest:
    path: data/latest.csv
    target: churned
    features: {numeric: [age, tenure], categorical: [plan, region]}
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
    gates:
      drift:
        reference: customers
        current: latest
"""


def _check(extra: str) -> list[Problem]:
    source = parse(SPEC + extra, "ml.yaml")
    return semantic.check(parse_spec(source), source.positions)


def _validate(tmp_path: Path, extra: str) -> tuple[int, str]:
    (tmp_path / "ml.yaml").write_text(SPEC + extra, encoding="utf-8")
    result = mlcode(tmp_path, "validate")
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("share", ["0", "0.0", "-0.1", "1.01", "2"])
def test_max_drifted_share_outside_zero_one_is_refused_located(tmp_path: Path, share: str) -> None:
    code, out = _validate(tmp_path, f"        max_drifted_share: {share}\n")
    assert code == 1, out
    assert "ml.yaml:23:28: models.churn.gates.drift.max_drifted_share:" in out
    assert share in out


@pytest.mark.parametrize("share", ["1", "1.0", "0.5", "0.01"])
def test_max_drifted_share_in_zero_one_is_valid(share: str) -> None:
    assert _check(f"        max_drifted_share: {share}\n") == []


@pytest.mark.parametrize("method", ["ks", "wasserstein"])
def test_numeric_only_method_on_a_categorical_column_is_located_at_the_column(
    method: str,
) -> None:
    [p] = _check(f"        columns:\n          plan: {{method: {method}}}\n")
    assert p.field == "models.churn.gates.drift.columns.plan.method"
    assert (p.location.line, p.location.column) == (24, 26)
    assert f"{method!r} needs a numeric column" in p.message
    assert "'plan' is categorical" in p.message
    assert "chi2, jensenshannon, psi or auto" in p.message


def test_dataset_method_ks_names_every_categorical_column_it_reaches(tmp_path: Path) -> None:
    extra = "        method: ks\n        columns:\n          region: {method: chi2}\n"
    [p] = _check(extra)
    assert p.field == "models.churn.gates.drift.method"
    assert (p.location.line, p.location.column) == (23, 17)
    assert "categorical column 'plan'" in p.message
    assert "region" not in p.message  # its own method replaces the dataset's
    code, out = _validate(tmp_path, extra)
    assert code == 1
    assert "ml.yaml:23:17: models.churn.gates.drift.method:" in out


def test_ignored_or_overridden_categorical_columns_and_numeric_ks_are_fine() -> None:
    ok = (
        "        method: wasserstein\n"
        "        columns:\n"
        "          plan: {ignore: true}\n"
        "          region: {method: jensenshannon}\n"
        "          age: {method: ks}\n"
    )
    assert _check(ok) == []
