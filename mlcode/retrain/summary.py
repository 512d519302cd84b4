"""What one `mlcode retrain` did, as values: each model's steps (refresh, drift, run, gates,
promote), its decision and outcome; the run's outcome and exit code; the `--json` document and the
summary table (readable in 100 columns: short cells, details wrapped below the table).

Pure: no I/O. The outcome words and the exit codes are part of the public interface (README,
"Exit codes"; the generated CI reads `--json`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["done", "skipped", "failed"]
Outcome = Literal["promoted", "nothing to do", "gates said no", "error"]
STEPS = ("refresh", "drift", "run", "gates", "promote")

EXIT: dict[Outcome, int] = {"promoted": 0, "gates said no": 1, "error": 3, "nothing to do": 4}
# Which outcome a run with several models reports: an error wins, then a gate's no, then a
# promotion; "nothing to do" only when nothing else happened.
PRECEDENCE: tuple[Outcome, ...] = ("error", "gates said no", "promoted", "nothing to do")

WIDTH = 100
_CELL = 9  # the widest step cell; longer text is cut with "…" (the details below say it all)
_MODEL = 16


@dataclass(frozen=True)
class Step:
    """One step of one model: its status, a short cell for the table, and the full detail."""

    status: Status
    detail: str
    cell: str = ""

    @property
    def short(self) -> str:
        """The table cell: `cell`, or the status word."""
        return self.cell or self.status

    def to_json(self) -> dict[str, str]:
        """`{"status", "detail"}`."""
        return {"status": self.status, "detail": self.detail}


def skipped(why: str) -> Step:
    """A step that did not run, and why."""
    return Step("skipped", why, "-")


def paragraph(message: str, *, lines: int = 4) -> str:
    """An error's one paragraph for the summary: a one-line message as it is; a long one (a
    failed DVC command and its output) as its first line and its last `lines` non-empty lines."""
    rows = [r.rstrip() for r in message.strip().splitlines() if r.strip()]
    if len(rows) <= lines + 1:
        return " ".join(r.strip() for r in rows)
    return " ".join([rows[0].strip(), "…", *(r.strip() for r in rows[-lines:])])


@dataclass
class ModelResult:
    """Everything one model went through."""

    model: str
    when: str
    steps: dict[str, Step] = field(default_factory=dict)
    retrain: bool = False
    why: str = "not decided"
    branch: str | None = None
    version: str | None = None
    error: str | None = None  # the error's message only
    hint: str | None = None  # what to do about it (its own field and line, never run together)

    def step(self, name: str) -> Step:
        """The step `name` (skipped when it never started)."""
        return self.steps.get(name) or skipped("not reached")

    def fail(self, name: str, message: str, hint: str | None = None) -> None:
        """Record `message` as the failure of step `name` and as the model's error, and `hint`
        (what to do about it) beside it."""
        text = paragraph(message)
        self.steps[name] = Step("failed", text, "failed")
        self.error = text
        self.hint = paragraph(hint) if hint else None

    @property
    def outcome(self) -> Outcome:
        """error > gates said no > promoted > nothing to do."""
        if self.error is not None:
            return "error"
        if self.step("gates").status == "failed":
            return "gates said no"
        if self.step("promote").status == "done":
            return "promoted"
        return "nothing to do"

    def to_json(self) -> dict[str, Any]:
        """The model's entry in `--json`."""
        return {
            "model": self.model,
            "outcome": self.outcome,
            "decision": {"when": self.when, "retrain": self.retrain, "why": self.why},
            "steps": {name: self.step(name).to_json() for name in STEPS},
            "branch": self.branch,
            "version": self.version,
            "error": self.error,
            "hint": self.hint,
        }


def run_outcome(outcomes: list[Outcome]) -> Outcome:
    """The run's outcome from its models' (see PRECEDENCE); no model at all: nothing to do."""
    for word in PRECEDENCE:
        if word in outcomes:
            return word
    return "nothing to do"


@dataclass
class RetrainResult:
    """The whole run: the refresh report's items and every model's result."""

    refresh: list[dict[str, Any]]
    models: list[ModelResult]
    # pointers (`.dvc`, dvc.lock) the refresh changed that no model was retrained on: kept in the
    # working tree (the newest data is not thrown away), named in the summary with the command
    # that commits them
    uncommitted: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        """The run's outcome."""
        return run_outcome([m.outcome for m in self.models])

    @property
    def exit_code(self) -> int:
        """0 promoted · 1 gates said no · 3 error · 4 nothing to do."""
        return EXIT[self.outcome]

    def to_json(self) -> dict[str, Any]:
        """The `--json` document."""
        return {
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "refresh": self.refresh,
            "models": [m.to_json() for m in self.models],
            "uncommitted": self.uncommitted,
            "error": None,
            "hint": None,
        }

    def to_table(self) -> str:
        """The summary table, the details of each model below it, and the run's outcome."""
        head = ["MODEL", "REFRESH", "DRIFT", "DECISION", "RUN", "GATES", "PROMOTE", "OUTCOME"]
        rows = [head]
        for m in self.models:
            decision = (
                "retrain" if m.retrain else ("-" if m.why.startswith("not decided") else "no")
            )
            cells = [m.step(s).short for s in ("refresh", "drift")]
            cells += [decision, *(m.step(s).short for s in ("run", "gates", "promote"))]
            rows.append([_cut(m.model, _MODEL), *(_cut(c, _CELL) for c in cells), m.outcome])
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        for m in self.models:
            lines += ["", f"{m.model}: {m.outcome}"]
            lines += _wrapped(f"decision ({m.when})", m.why)
            for name in STEPS:
                step = m.step(name)
                if step.detail:
                    lines += _wrapped(f"{name} ({step.status})", step.detail)
                if step.status == "failed" and m.hint:
                    lines += _wrapped("hint", m.hint)
            if m.branch:
                lines += _wrapped("branch", m.branch)
        if self.uncommitted:
            lines += [""]
            lines += _wrapped(
                "Note",
                "The refreshed data retrained no model and is kept in the working tree: "
                f"{', '.join(self.uncommitted)}. To version it: {commit_command(self.uncommitted)}",
            )
        code = self.exit_code
        lines += ["", f"Outcome: {self.outcome} (exit {code})."]
        return "\n".join(lines) + "\n"


def commit_command(paths: list[str]) -> str:
    """The commands that version refreshed pointers: commit them, push their data."""
    import shlex

    return (
        f"git commit -m 'new data from the sources' {' '.join(map(shlex.quote, paths))} && dvc push"
    )


def run_error(message: str, hint: str | None) -> dict[str, Any]:
    """The `--json` document of a run that failed before any model (the lock held, a bad ml.yaml,
    a dirty tree, an unreachable DVC remote): the same shape, no model, the error at the top."""
    return {
        "outcome": "error",
        "exit_code": EXIT["error"],
        "refresh": [],
        "models": [],
        "uncommitted": [],
        "error": message,
        "hint": hint,
    }


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        f"{label}: {text}",
        WIDTH,
        initial_indent="  ",
        subsequent_indent="      ",
        break_long_words=True,
        break_on_hyphens=False,
    )
