"""End to end: DVC experiments on a generated project, carried back into ml.yaml.

One iris project is built, trained and given two real experiments (`dvc exp run -S`) once per
module; each test works on its own copy. The real `dvc exp run`, `dvc exp show` and
`dvc exp apply` make every params.yaml these tests read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import GIT_ENV
from tests.e2e.helpers import git, mlcode, snapshot

pytestmark = pytest.mark.slow

# The two experiments: `small` changes estimator params (one of them new), `seeded` the split.
SMALL = ["-S", "iris.params.n_estimators=50", "-S", "+iris.params.min_samples_leaf=2"]
SEEDED = ["-S", "iris.split.seed=7", "-S", "iris.split.test_size=0.3"]
PARAMS_LINE = "    params: {n_estimators: 100, max_depth: 5, random_state: 0}\n"
SPLIT_LINE = "    split: {test_size: 0.25, seed: 42}\n"


def run(cwd: Path, *cmd: str) -> str:
    result = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def dvc(cwd: Path, *args: str) -> str:
    return run(cwd, sys.executable, "-m", "dvc", *args)


def ok(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = mlcode(cwd, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An applied, trained, committed iris project with experiments `small` and `seeded` (the
    workspace holds `seeded`, as `dvc exp run` leaves it)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("DVC_NO_ANALYTICS", "1")
        mp.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
        mp.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
        for key, value in GIT_ENV.items():
            mp.setenv(key, value)
        repo = tmp_path_factory.mktemp("exp") / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        ok(repo, "init", "--example", "iris", "--project", "demo")
        ok(repo, "apply", "--auto-approve")
        git(repo, "commit", "-qm", "project")
        dvc(repo, "repro", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "trained")
        dvc(repo, "exp", "run", "-q", "--temp", "-n", "small", *SMALL)  # workspace untouched
        dvc(repo, "exp", "run", "-q", "-n", "seeded", *SEEDED)
        yield repo


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(trained, copy, symlinks=True)
    return copy


def state(root: Path) -> tuple[dict[str, bytes], str]:
    """The whole tree and the git index."""
    return snapshot(root), git(root, "ls-files", "-s")


def params(root: Path) -> Any:
    return yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))


def exp_params(root: Path, name: str) -> Any:
    """What `dvc exp show --json` says experiment `name` ran with."""
    for base in json.loads(dvc(root, "exp", "show", "--json")):
        for exp in base.get("experiments") or []:
            for rev in exp["revs"]:
                if rev["name"] == name:
                    return rev["data"]["params"]["params.yaml"]["data"]
    raise AssertionError(f"no experiment {name}")


def test_check_explains_and_pull_keeps_the_experiment(project: Path) -> None:
    spec_before = (project / "ml.yaml").read_text(encoding="utf-8")
    assert SPLIT_LINE in spec_before

    # The hook judges what is about to be committed: an experiment left unstaged passes...
    assert "mlcode check: ok" in ok(project, "check").stdout
    # ...and once its params.yaml is staged, check explains instead of pointing at apply.
    git(project, "add", "params.yaml")
    check = mlcode(project, "check")
    assert check.returncode == 1
    out = check.stdout + check.stderr
    assert "params.yaml holds experiment params" in out
    assert "iris.split.seed" in out
    assert "iris.split.test_size" in out
    assert "mlcode params pull" in out
    assert "mlcode apply --force" in out
    assert "Run `mlcode apply`" not in out  # no longer pointed at a plain apply

    # Explaining stays light: the pre-commit hook imports no DVC or data library for it.
    probe = (
        "import sys; from mlcode.cli import main\ntry: main(['check'])\nexcept SystemExit: pass\n"
    )
    probe += "print(sorted({m.split('.')[0] for m in sys.modules} & {'dvc', 'pandas', 'sklearn'}))"
    assert run(project, sys.executable, "-c", probe).splitlines()[-1] == "[]"

    refused = mlcode(project, "apply", "--auto-approve")
    assert refused.returncode == 3
    assert "mlcode params pull" in refused.stdout + refused.stderr
    assert "mlcode params pull" in ok(project, "plan", "--no-status").stdout

    before = state(project)
    dry = ok(project, "params", "pull", "--dry-run")
    assert "-    split: {test_size: 0.25, seed: 42}" in dry.stdout
    assert "+    split: {test_size: 0.3, seed: 7}" in dry.stdout
    assert state(project) == before

    ok(project, "params", "pull")
    after = (project / "ml.yaml").read_text(encoding="utf-8")
    # Only the two values changed: comments, order and formatting are byte for byte the same.
    assert after == spec_before.replace(SPLIT_LINE, "    split: {test_size: 0.3, seed: 7}\n")
    assert params(project) == exp_params(project, "seeded")
    assert "mlcode check: ok" in ok(project, "check").stdout
    assert mlcode(project, "plan", "--no-status", "--detailed-exitcode").returncode == 0
    assert "ml.yaml" in git(project, "diff", "--cached", "--name-only").split()


def test_pull_a_named_experiment_equals_exp_apply_then_pull(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(project, other, symlinks=True)
    spec_before = (project / "ml.yaml").read_text(encoding="utf-8")

    before = snapshot(project)
    ok(project, "params", "pull", "small")
    after = snapshot(project)
    # Read through `dvc exp show`: the working tree's outputs, dvc.lock and metrics stay as they were.
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed == {"ml.yaml", "params.yaml", ".mlcode/manifest.json"}
    expected = spec_before.replace(
        PARAMS_LINE,
        "    params: {n_estimators: 50, max_depth: 5, random_state: 0, min_samples_leaf: 2}\n",
    )
    assert (project / "ml.yaml").read_text(encoding="utf-8") == expected
    assert params(project) == exp_params(project, "small")
    assert "mlcode check: ok" in ok(project, "check").stdout
    assert mlcode(project, "plan", "--no-status", "--detailed-exitcode").returncode == 0

    dvc(other, "exp", "apply", "small")
    ok(other, "params", "pull")
    assert (other / "ml.yaml").read_bytes() == (project / "ml.yaml").read_bytes()
    assert (other / "params.yaml").read_bytes() == (project / "params.yaml").read_bytes()


def test_unknown_key_is_refused_and_nothing_written(project: Path) -> None:
    dvc(project, "exp", "apply", "small")
    dvc(project, "exp", "run", "-q", "-S", "+iris.colour=blue")
    before = state(project)
    result = mlcode(project, "params", "pull")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "iris.colour" in result.stderr
    assert "no source in ml.yaml" in result.stderr
    assert state(project) == before


def test_value_the_schema_refuses_is_an_error_and_nothing_written(project: Path) -> None:
    # The value DVC's `-S iris.split.seed=-1` would write: the split step refuses it, so the
    # experiment itself cannot finish; written the way DVC writes it.
    text = (project / "params.yaml").read_text(encoding="utf-8")
    (project / "params.yaml").write_text(text.replace("seed: 7", "seed: -1"), encoding="utf-8")
    before = state(project)
    result = mlcode(project, "params", "pull")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "models.iris.split.seed" in result.stderr
    assert state(project) == before


def test_nothing_to_pull_and_unknown_experiment(project: Path) -> None:
    ok(project, "apply", "--auto-approve", "--force")
    before = state(project)
    result = ok(project, "params", "pull")
    assert "nothing to pull" in result.stdout.lower()
    assert state(project) == before
    missing = mlcode(project, "params", "pull", "no-such-exp")
    assert missing.returncode == 3
    assert "no-such-exp" in missing.stderr
    assert "small" in missing.stderr
    assert state(project) == before
