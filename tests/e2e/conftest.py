"""Session-wide fixtures of the end-to-end tests: trained projects built once per worker, copied
for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.ct_project import build_ct_project
from tests.e2e.projects import build_template, build_trained_project, copy_project


@pytest.fixture(scope="session")
def trained_iris_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained, committed and pushed iris project (see tests/e2e/projects.py); never modify it:
    take a copy with `trained_iris`."""
    return build_template(tmp_path_factory, "trained-iris-template", build_trained_project)


@pytest.fixture
def trained_iris(trained_iris_template: Path, tmp_path: Path) -> Path:
    """A private copy of the trained iris project; returns its repository path (its bare origin is
    `../origin.git`, its DVC remote `../.mlcode-storage/project`)."""
    return copy_project(trained_iris_template, tmp_path / "work")


@pytest.fixture(scope="session")
def ct_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built continuous-training project of tests/e2e/ct_project.py (never modify it: take a
    copy with `ct_project`)."""
    return build_template(tmp_path_factory, "ct-template", build_ct_project)


@pytest.fixture
def ct_project(ct_template: Path, tmp_path: Path) -> Path:
    """A private copy of the continuous-training project; returns its repository (siblings:
    `../origin.git`, `../upstream`, `../.mlcode-storage/ct`)."""
    return copy_project(ct_template, tmp_path / "ct")
