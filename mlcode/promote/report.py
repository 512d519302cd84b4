"""The promotion report: one Markdown file (the gate table, then the drift report) with the drift
plots as SVG files beside it, committed on the promotion branch and used as the pull request's
body. Nothing is uploaded anywhere: the images live in the repository, linked relatively.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlcode.errors import UserError
from mlcode.promote.plan import REPORT_NAME, report_dir, vtag

# GitHub refuses a pull request body over 65,536 characters.
BODY_LIMIT = 60_000


def drift_files(root: Path, drift_report: str) -> tuple[str, dict[str, bytes]]:
    """The drift section (Markdown) and its plot files (path relative to the report → bytes),
    written by the drift report renderer in a temporary folder; ("", {}) when the model has no
    drift report."""
    from mlcode.drift.report_md import write_markdown

    source = root / drift_report
    if not source.is_file():
        return "", {}
    try:
        report: Any = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the drift report {drift_report}: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="mlcode-report-") as tmp:
        out_md = Path(tmp) / "drift.md"
        written = write_markdown(report, out_md)
        text = out_md.read_text(encoding="utf-8") if out_md.is_file() else ""
        plots = {  # relative to the Markdown, as its links are
            path.relative_to(tmp).as_posix(): path.read_bytes()
            for path in map(Path, written)
            if path.is_file() and path != out_md
        }
    return text, plots


def compose(
    model: str, version: str, gates_md: str, drift_md: str, base: str, *, reason: str = ""
) -> str:
    """The report's Markdown: what is promoted, why it was retrained (`reason`: the decision
    `mlcode retrain` made; empty for a plain promotion), the gate table, the drift report."""
    parts = [
        f"# Promotion of `{model}` {vtag(version)}",
        "",
        f"Proposed by `mlcode {'retrain' if reason else 'promote'}` for the base branch `{base}`. "
        "The model's data and outputs are on the DVC remote (checked before this branch was "
        "pushed); `dvc pull` fetches them.",
        "",
    ]
    if reason:
        parts += [f"Retrained because: {reason}.", ""]
    parts.append(gates_md.strip())  # its own `## mlcode gates` heading
    if drift_md.strip():
        parts += ["", "## Drift", "", drift_md.strip()]
    return "\n".join(parts) + "\n"


def report_files(
    model: str, version: str, markdown: str, plots: dict[str, bytes]
) -> dict[str, bytes]:
    """Repository path → bytes of every file of the report."""
    folder = report_dir(model, version)
    files = {f"{folder}/{REPORT_NAME}": markdown.encode("utf-8")}
    files.update({f"{folder}/{name}": data for name, data in plots.items()})
    return files


_RELATIVE_IMAGE = re.compile(r"(!\[[^\]\n]*\]\()(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^)\s]+)(\))")


def absolute_images(markdown: str, url_of: Callable[[str], str | None]) -> str:
    """`markdown` with each relative image link replaced by `url_of(link)` (kept when None).

    The report links its plots relatively, which works where the file is viewed in the
    repository; a pull request body is resolved by no forge relative to the branch, so its images
    point at the committed files through the forge's own raw-file URL (nothing uploaded)."""

    def swap(match: re.Match[str]) -> str:
        url = url_of(match.group(2))
        return f"{match.group(1)}{url}{match.group(3)}" if url else match.group(0)

    return _RELATIVE_IMAGE.sub(swap, markdown)


def pr_body(markdown: str, report: str) -> str:
    """The pull request's body: the report, cut (with a pointer to the file) to fit the forge."""
    if len(markdown) <= BODY_LIMIT:
        return markdown
    return markdown[:BODY_LIMIT] + f"\n\n… (cut to fit; the whole report is `{report}`)\n"
