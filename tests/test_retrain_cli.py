"""`mlcode retrain` on the command line: listed with a one-line help, its own help names the exit
codes, and neither `mlcode --help` nor `mlcode retrain --help` imports the retrain machinery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mlcode.cli import COMMANDS, cli
from mlcode.cli.needs import NEEDS_FULL

WRAPPER = """
import atexit, json, sys
OUT = sys.argv[1]
atexit.register(lambda: json.dump(sorted(sys.modules), open(OUT, "w")))
from mlcode.cli import main
sys.argv = ["mlcode", *sys.argv[2:]]
main()
"""


def _modules(tmp_path: Path, *args: str) -> set[str]:
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(out), *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(out.read_text()))


def test_listed_with_one_line_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    [line] = [row for row in result.output.splitlines() if row.strip().startswith("retrain ")]
    assert COMMANDS["retrain"][1] in line
    assert len(line) <= 80
    assert NEEDS_FULL["retrain"] is None


def test_own_help_names_options_and_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["retrain", "--help"])
    assert result.exit_code == 0
    for word in ("--pull", "--push", "--json", "Exit 0: promoted", "3: error", "4: nothing to do"):
        assert word in " ".join(result.output.split())


def test_help_imports_no_retrain_module(tmp_path: Path) -> None:
    loaded = _modules(tmp_path, "--help")
    assert not {m for m in loaded if m.startswith("mlcode.retrain")}
    assert "mlcode.cli.retrain" not in loaded
    loaded = _modules(tmp_path, "retrain", "--help")
    assert "mlcode.cli.retrain" in loaded
    assert not {m for m in loaded if m.startswith("mlcode.retrain")}
    assert not {"dvc", "pandas", "sklearn"} & {m.split(".")[0] for m in loaded}


def test_a_whole_run_error_with_json_prints_one_json_object(git_repo: Path) -> None:
    """A scheduled job parses stdout: a failure before any model (here: no ml.yaml) is still one
    JSON object there (outcome error, exit 3, the message and its hint apart); the paragraph for
    people stays on stderr, and without --json stdout stays empty."""
    from tests.e2e.helpers import mlcode

    result = mlcode(git_repo, "retrain", "--json")
    assert result.returncode == 3, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert (doc["outcome"], doc["exit_code"], doc["models"]) == ("error", 3, [])
    assert "ml.yaml" in doc["error"]
    assert doc["error"] in " ".join(result.stderr.split()) or doc["error"] in result.stderr
    assert "Traceback" not in result.stderr
    plain = mlcode(git_repo, "retrain")
    assert (plain.returncode, plain.stdout) == (3, "")
    assert list(git_repo.iterdir()) == [git_repo / ".git"]


def test_a_project_never_applied_is_told_to_apply_and_its_own_lock_is_no_change(
    git_repo: Path,
) -> None:
    """A committed ml.yaml that was never applied (no .mlcode/.gitignore yet): retrain's own lock
    file is not "a change that is not the pipeline's"; the refusal says what to do instead."""
    from tests.e2e.helpers import git, mlcode

    assert mlcode(git_repo, "init", "--example", "iris").returncode == 0
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "ml.yaml, not applied")
    result = mlcode(git_repo, "retrain")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "retrain.lock" not in result.stderr
    assert "mlcode apply" in result.stderr
    assert git(git_repo, "status", "--porcelain", "--untracked-files=all") == ""
