"""`mlcode drift`: data drift between two files, or between a model's declared datasets.

`mlcode drift --reference A --current B` compares any two CSV or Parquet files, no ml.yaml needed:
the columns and their kinds come from the files (`mlcode.drift.sources`, Evidently's inference),
the id and time columns are left out. `mlcode drift MODEL` compares the datasets of the model's
drift gate with its settings from ml.yaml: the same engine and result as the pipeline's drift step.

Output: a table (or `--json`: the full report); `--html FILE` and `--markdown FILE` write the report
files, each only after the comparison succeeded (never half-written). Exit codes: 0 no dataset drift
(or drift without `--fail-on-drift`), 1 dataset drift with `--fail-on-drift`, 3 cannot compare.
A column with no value on one side cannot be compared from two files: it is refused, naming the file
and the column (the drift step reports it as drifted instead, as the gate always has).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO, cast

import click

from mlcode.cli import options
from mlcode.cli.boundary import visible
from mlcode.errors import UsageError, UserError

METHODS = ("auto", "psi", "ks", "chi2", "wasserstein", "jensenshannon")
_PROGRESS_AFTER = 2.0  # seconds before a progress bar appears


@click.command("drift")
@click.argument("model", required=False)
@click.option("--reference", type=click.Path(path_type=Path), help="Reference CSV/Parquet file.")
@click.option("--current", type=click.Path(path_type=Path), help="Current CSV/Parquet file.")
@click.option(
    "--columns",
    multiple=True,
    help="Columns to compare (repeat or comma-separate); default: every column.",
)
@click.option(
    "--method", type=click.Choice(METHODS), default="auto", show_default=True, help="Drift test."
)
@click.option("--threshold", type=float, default=None, help="Threshold of the method.")
@options.json_output("Print the full report as JSON.")
@click.option("--html", "html", type=click.Path(path_type=Path), help="Write an HTML report.")
@click.option(
    "--markdown", "markdown", type=click.Path(path_type=Path), help="Write a Markdown report."
)
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the dataset drifted.")
@click.option(
    "--max-drifted-share",
    type=float,
    default=None,
    help="Dataset drift when this share of columns drifted or more (default 0.5).",
)
@click.option("--id-column", default=None, help="Id column: never compared.")
@click.option("--time-column", default=None, help="Time column: never compared.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--progress-after", type=float, default=_PROGRESS_AFTER, hidden=True)
@click.option(
    "--exact-limit",
    type=click.IntRange(min=0),
    default=None,
    hidden=True,
    help="Values of a column pair above which a quantile sketch replaces sorting (tests).",
)
@click.pass_context
def command(
    ctx: click.Context,
    model: str | None,
    reference: Path | None,
    current: Path | None,
    columns: tuple[str, ...],
    method: str,
    threshold: float | None,
    as_json: bool,
    html: Path | None,
    markdown: Path | None,
    fail_on_drift: bool,
    max_drifted_share: float | None,
    id_column: str | None,
    time_column: str | None,
    quiet: bool,
    progress_after: float,
    exact_limit: int | None,
) -> int:
    """Data drift between two files (--reference, --current) or a MODEL's drift datasets.

    Column kinds are inferred from the files (numeric types numeric, the rest categorical); the
    method is Evidently 0.7's default per column unless --method names one.
    """
    if threshold is not None and threshold <= 0:
        raise UsageError(f"--threshold must be a positive number, got {threshold}")
    if max_drifted_share is not None and not 0 < max_drifted_share <= 1:
        raise UsageError(f"--max-drifted-share must be in (0, 1], got {max_drifted_share}")
    cwd = options.settings(ctx).cwd
    progress = None if quiet or not sys.stderr.isatty() else Progress(after=progress_after)
    if model is not None:
        file_only = {
            "--reference": reference,
            "--current": current,
            "--columns": columns or None,
            "--threshold": threshold,
            "--id-column": id_column,
            "--time-column": time_column,
            "--method": None if method == "auto" else method,
        }
        given = [name for name, value in file_only.items() if value is not None]
        if given:
            raise UsageError(
                f"{', '.join(given)}: not with MODEL; the model's drift settings come from ml.yaml"
            )
        report = _model_report(ctx, model, max_drifted_share, progress)
    else:
        if reference is None or current is None:
            raise UsageError("give --reference and --current files, or a MODEL of ml.yaml")
        report = _files_report(
            cwd,
            reference,
            current,
            [c.strip() for item in columns for c in item.split(",") if c.strip()],
            method,
            threshold,
            0.5 if max_drifted_share is None else max_drifted_share,
            [c for c in (id_column, time_column) if c],
            progress,
            exact_limit,
        )
    if progress is not None:
        progress.close()
    _write_reports(cwd, report, html, markdown)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render_table(report))
    drifted = bool(report["dataset"]["dataset_drift"])
    return 1 if drifted and fail_on_drift else 0


def _files_report(
    cwd: Path,
    reference: Path,
    current: Path,
    columns: list[str],
    method: str,
    threshold: float | None,
    max_drifted_share: float,
    exclude: list[str],
    progress: Progress | None,
    exact_limit: int | None,
) -> dict[str, Any]:
    from mlcode.drift import sources
    from mlcode.drift.detect import ALL_MISSING, ColumnSettings, Requested
    from mlcode.drift.files import EXACT_LIMIT, compare_files
    from mlcode.drift.plotdata import PlotData, attach

    ref = sources.data_file(cwd / reference, str(reference))
    cur = sources.data_file(cwd / current, str(current))
    chosen = sources.choose_columns(
        (ref, sources.schema(ref)), (cur, sources.schema(cur)), columns, exclude
    )
    settings = ColumnSettings(method=cast(Requested, method), threshold=threshold)
    plots: dict[str, PlotData] = {}
    result = compare_files(
        ref,
        cur,
        chosen.numeric,
        chosen.categorical,
        settings,
        {},
        max_drifted_share,
        plots,
        progress=progress,
        exact_limit=EXACT_LIMIT if exact_limit is None else exact_limit,
    )
    report: dict[str, Any] = attach(
        {
            "reference": str(reference),
            "current": str(current),
            "method": method,
            **result.report(),
        },
        plots,
    )
    missing = [c for c in result.columns if c.method == ALL_MISSING]
    if missing:
        name = missing[0].name
        file = ref if missing[0].n_reference == 0 else cur
        others = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UserError(
            f"{file.name}: column {name!r} has no value at all{others}; it cannot be compared",
            hint="Leave it out with --columns, or fix the file.",
        )
    return report


def _model_report(
    ctx: click.Context, model: str, max_drifted_share: float | None, progress: Progress | None
) -> dict[str, Any]:
    from mlcode.compile.dvc import params_data
    from mlcode.steps import drift as drift_step

    workspace = options.workspace(ctx)
    spec = workspace.project.spec
    if model not in spec.models:
        raise UserError(
            f"ml.yaml declares no model {model!r}",
            hint=f"Models: {', '.join(sorted(spec.models)) or 'none'}.",
        )
    if spec.models[model].gates.drift is None:
        raise UserError(
            f"model {model!r} has no drift gate in ml.yaml",
            hint="Add `gates.drift` (reference, current) to the model, or compare two files "
            "with --reference and --current.",
        )
    params = drift_step.params_of(model, params_data(spec)[model].get("drift"))
    if max_drifted_share is not None:
        from dataclasses import replace

        params = replace(params, max_drifted_share=max_drifted_share)
    result, plots = drift_step.compare(workspace.root, model, params, progress=progress)
    return drift_step.report(model, params, result, plots)


def _write_reports(
    cwd: Path, report: dict[str, Any], html: Path | None, markdown: Path | None
) -> None:
    """Write the HTML and Markdown reports (`mlcode.drift.report_html`, `report_md`), each file
    atomically, after the comparison succeeded."""
    from mlcode.adapters.fs import atomic_write
    from mlcode.drift.report_html import render_html
    from mlcode.drift.report_md import write_markdown

    if html is not None:
        atomic_write(cwd / html, render_html(report))
    if markdown is not None:
        write_markdown(report, cwd / markdown)


def render_table(report: dict[str, Any], *, markdown: bool = False) -> str:
    """The per-column verdicts and the dataset line, as text (or a Markdown table)."""
    header = ("column", "kind", "method", "statistic", "threshold", "drifted")
    rows = [
        (
            name,
            str(col["kind"]),
            str(col["method"]),
            f"{col['statistic']:.4g}",
            f"{col['threshold']:g}",
            "yes" if col["drifted"] else "no",
        )
        for name, col in report["columns"].items()
    ]
    for name, skip in report.get("skipped", {}).items():
        rows.append((name, str(skip["kind"]), "skipped", "", "", str(skip["reason"])))
    data = report["dataset"]
    verdict = "dataset drift" if data["dataset_drift"] else "no dataset drift"
    summary = (
        f"{data['drifted_columns']}/{data['columns']} columns drifted "
        f"(share {data['drifted_share']:.2f}, max {data['max_drifted_share']:g}): {verdict}"
    )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join([*lines, "", summary])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, "", summary])


class Progress:
    """A one-line progress bar on `stream` (stderr), shown once the work has taken `after`
    seconds; the command makes one only when stderr is a terminal and --quiet is not given."""

    def __init__(self, stream: TextIO | None = None, after: float = _PROGRESS_AFTER) -> None:
        # the process's own stderr: the CLI boundary's stream would write the carriage return as
        # the text `\x0d`; the column name is made safe with `visible` instead
        self._stream = stream or sys.__stderr__ or sys.stderr
        self._after = after
        self._start = time.monotonic()
        self._shown = False

    def __call__(self, done: int, total: int, column: str) -> None:
        if time.monotonic() - self._start < self._after:
            return
        width = 30
        filled = width * done // max(total, 1)
        name = visible(column[:30])
        line = f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} columns {name}"
        self._stream.write(line.ljust(80)[:80])
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        """Clear the bar's line when one was drawn."""
        if self._shown:
            self._stream.write("\r" + " " * 80 + "\r")
            self._stream.flush()
