"""The GitHub Actions that generated workflows use, pinned by full commit SHA.

A tag can be moved; a commit SHA cannot. Each SHA below was checked against public sources before it
was written here (at least two independent ones each). Update a pin only the same way: find the
release's commit, confirm it in two places, and change SHA and tag together.

- actions/checkout v4.2.2 = 11bd71901bbe5b1630ceea73d27597364c9af683: the project's reference notes
  (REFERENCE.md, "GitHub Actions security facts"); zizmor's own unpinned-uses documentation uses it
  as its example pin; many public workflows and pin tables list it as `# v4.2.2` (e.g. a pinned-action
  table `actions/checkout | v4.2.2 | 11bd7190...`, a Python project's workflow docs listing
  `actions/checkout@11bd7190... (v4.2.2)`), found with an exact-string code search.
- actions/setup-python v5.3.0 = 0b93645e9fea7318ecaed2b359559ac225c90a2b: public workflows pinning
  `actions/setup-python@0b93645e... # v5.3.0` (a publish workflow with `cache: pip`, a pin cheat
  sheet, a Python project's workflow documentation listing it as v5.3.0), exact-string code search.
- actions/cache v4.2.0 = 1bd1e32a3bdc45362d1e726936510720a7c30a57: pin tables listing
  `actions/cache | 1bd1e32a... | v4.2.0` in two unrelated repositories, and workflows pinning
  `actions/cache@1bd1e32a... # v4.2.0` (Go and Gradle caches), exact-string code search. v4.2.0 is
  also the first release on GitHub's new cache service, which older v4 releases no longer reach.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Pin:
    """One action at one commit."""

    name: str
    sha: str
    tag: str

    @property
    def ref(self) -> str:
        """The `uses:` value: `owner/repo@<sha>`."""
        return f"{self.name}@{self.sha}"


ACTIONS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "actions/cache": ("1bd1e32a3bdc45362d1e726936510720a7c30a57", "v4.2.0"),
}


def pin(name: str) -> Pin:
    """The pinned action `name` (KeyError for an action that is not in the table)."""
    sha, tag = ACTIONS[name]
    if not _SHA.fullmatch(sha):  # pragma: no cover - guarded by a test of the table
        raise ValueError(f"{name}: {sha!r} is not a full commit SHA")
    return Pin(name, sha, tag)


def pins() -> dict[str, Pin]:
    """Every pinned action, keyed by a short name templates use (`checkout`, `setup_python`, ...)."""
    return {name.split("/", 1)[1].replace("-", "_"): pin(name) for name in ACTIONS}
