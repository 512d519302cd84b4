"""Compile ml.yaml + its stack into every generated file: pure, deterministic, no I/O.

`compile_project(spec, stack)` returns `{relative posix path: full text}`; the same input gives
byte-identical output. Each part lives in its own module:

- `mlcode.compile.dvc`: `dvc.yaml` and `params.yaml`;
- `mlcode.compile.github`: `.github/workflows/*.yml` (when the stack's CI is GitHub);
- `mlcode.compile.gitlab`: `.gitlab-ci.yml` (when the stack's CI is GitLab).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package (e.g. its `header`) must not build pydantic's models
    from mlcode.spec.model import MlSpec
    from mlcode.spec.stack import Stack


def compile_project(spec: MlSpec, stack: Stack) -> dict[str, str]:
    """Every generated file of the project, by path."""
    from mlcode.compile import dvc

    files = dict(dvc.render(spec, stack))
    if stack.ci == "github":
        from mlcode.compile import github

        files.update(github.render(spec, stack))
    elif stack.ci == "gitlab":
        from mlcode.compile import gitlab

        files.update(gitlab.render(spec, stack))
    return dict(sorted(files.items()))


def apply_notes(spec: MlSpec, stack: Stack) -> dict[str, str]:
    """Generated path → what a person must do outside the repository once that file is written
    (a setting of the forge that no generated file can hold, such as GitLab's pipeline schedule)."""
    if stack.ci == "gitlab":
        from mlcode.compile import gitlab

        note = gitlab.schedule_note(spec, stack)
        if note is not None:
            return {gitlab.GITLAB_CI: note}
    return {}
