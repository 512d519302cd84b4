"""The shared trained-project fixture gives a clean, up-to-date, pushed and independent copy."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import git, mlcode


def test_copy_is_trained_clean_and_independent(
    trained_iris: Path, trained_iris_template: Path
) -> None:
    assert (trained_iris / "metrics" / "iris.json").is_file()
    assert git(trained_iris, "status", "--porcelain") == ""
    assert git(trained_iris, "rev-parse", "HEAD") == git(trained_iris, "rev-parse", "origin/main")
    plan = mlcode(trained_iris, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    (trained_iris / "ml.yaml").write_text("changed\n")
    assert (trained_iris_template / "project" / "ml.yaml").read_text() != "changed\n"
    remote = git(trained_iris, "remote", "get-url", "origin").strip()
    assert (trained_iris / remote).resolve() == (trained_iris.parent / "origin.git").resolve()
