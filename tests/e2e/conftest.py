"""Session-wide fixtures of the end-to-end tests: trained projects built once per worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import GIT_ENV
from tests.e2e.projects import build_trained_project, copy_project


@pytest.fixture(scope="session")
def trained_iris_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained, committed and pushed iris project (see tests/e2e/projects.py); never modify it:
    take a copy with `trained_iris`."""
    base = tmp_path_factory.mktemp("trained-iris-template")
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("template-home")
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        patch.setenv("DVC_NO_ANALYTICS", "1")
        for key, value in GIT_ENV.items():
            patch.setenv(key, value)
        build_trained_project(base / "t")
    return base / "t"


@pytest.fixture
def trained_iris(trained_iris_template: Path, tmp_path: Path) -> Path:
    """A private copy of the trained iris project; returns its repository path (its bare origin is
    `../origin.git`, its DVC remote `../.mlcode-storage/project`)."""
    return copy_project(trained_iris_template, tmp_path / "work")
