"""The steps read params.yaml as DVC writes it (YAML 1.2), so `dvc exp run -S` values keep types."""

from __future__ import annotations

from pathlib import Path

from mlcode.steps.common import read_section


def test_params_written_by_dvc_keep_their_yaml_1_2_types(tmp_path: Path) -> None:
    # `dvc exp run -S iris.params.tol=1e-05` writes `1e-05` (YAML 1.2 float; PyYAML's 1.1
    # rules read it as a string and the estimator fails) and leaves `on` as text.
    (tmp_path / "params.yaml").write_text(
        "iris:\n  params:\n    tol: 1e-05\n    alpha: 2E3\n    solver: on\n    n: 0x1F\n",
        encoding="utf-8",
    )
    params = read_section(tmp_path, "iris", "train")["params"]
    assert params == {"tol": 1e-05, "alpha": 2000.0, "solver": "on", "n": 31}
    assert isinstance(params["tol"], float)
