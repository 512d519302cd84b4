"""The retrain job's data step, for projects where a drift decision reads the training data.

`mlcode retrain` decides `retrain.when: drift` from the training data itself, before anything is
reproduced; the generated jobs no longer pull everything up front, so a job with such a model
pulls the data behind the data pointers (`*.dvc`) first, and nothing else. Run here from the
compiled GitHub step and GitLab line, in a fresh clone of a trained project with its DVC remote.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from mlcode.compile import compile_project
from mlcode.layout import model_paths
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.yamlsource import parse
from tests.e2e.helpers import BIN, env, git

pytestmark = pytest.mark.slow

STEP = "Pull the data behind the data pointers (a drift decision reads it)"


def _compiled(repo: Path, stack_name: str, when: str) -> dict[str, str]:
    stack = parse_stack(load_file(str(stack_presets()[stack_name]), f"stacks/{stack_name}.yaml"))
    text = (repo / "ml.yaml").read_text().replace("stack: local", f"stack: {stack_name}")
    text = text.replace(
        "    task: classification\n",
        f"    task: classification\n    retrain: {{when: {when}}}\n",
        1,
    )
    return compile_project(parse_spec(parse(text, "ml.yaml")), stack)


def _lines(repo: Path, when: str) -> list[str]:
    """The data-pull command of the GitHub retrain job and of the GitLab one (none: [])."""
    github = yaml.safe_load(
        _compiled(repo, "github-s3", when)[".github/workflows/mlcode-retrain.yml"]
    )
    steps = [s["run"] for s in github["jobs"]["retrain"]["steps"] if s.get("name") == STEP]
    gitlab = yaml.safe_load(_compiled(repo, "gitlab-s3", when)[".gitlab-ci.yml"])
    lines = [line for line in gitlab["mlcode-retrain"]["script"] if "dvc pull" in line]
    return steps + lines


def test_a_drift_decision_gets_the_data_and_only_the_data(
    trained_iris: Path, tmp_path: Path
) -> None:
    assert _lines(trained_iris, "data_changed") == []
    commands = _lines(trained_iris, "drift")
    assert len(commands) == 2
    subprocess.run([str(BIN / "dvc"), "push", "-q"], cwd=trained_iris, env=env(), check=True)
    remote = (trained_iris.parent / ".mlcode-storage" / "project").resolve()
    for i, command in enumerate(commands):
        clone = tmp_path / f"clone-{i}"
        git(tmp_path, "clone", "-q", str(trained_iris.parent / "origin.git"), str(clone))
        subprocess.run(
            [str(BIN / "dvc"), "remote", "modify", "--local", "local-storage", "url", str(remote)],
            cwd=clone,
            env=env(),
            check=True,
        )
        pointers = git(clone, "ls-files", "*.dvc").split()
        assert pointers
        shell = (
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"] if i == 0 else ["sh", "-c"]
        )
        done = subprocess.run(
            [*shell, command], cwd=clone, env=env(), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        for pointer in pointers:
            assert (clone / pointer.removesuffix(".dvc")).is_file(), pointer
        # Pipeline outputs stay for `mlcode retrain --pull` (restored from the run-cache, or run).
        assert not (clone / model_paths("iris").model_file).exists()
        assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
