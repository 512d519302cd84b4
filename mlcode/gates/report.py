"""The gates' result as values, and its three renderings: a plain table, JSON, Markdown (pure).

One `GateRow` per rule of ml.yaml (a metric gate with `min` and `vs_champion` gives two rows), one
`ModelGates` per model with the champion it was compared with, one `GatesReport` for the command.
The JSON form is documented in the README ("`mlcode gates`"); `FORMAT_VERSION` changes only when a
field is removed or changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Gate = Literal["metric", "vs_champion", "drift"]
Verdict = Literal["pass", "fail"]

FORMAT_VERSION = 1
# GitHub refuses a pull-request body or comment longer than this many characters.
MARKDOWN_LIMIT = 65_536
_COLUMNS = ("model", "gate", "rule", "expected", "actual", "champion", "verdict", "reason")


@dataclass(frozen=True)
class GateRow:
    """One rule's verdict.

    `expected`, `actual` and `champion` are display text; the numbers behind them are `bound`,
    `value` and `champion_value` (None where there is none). `evaluated` is False when the rule
    could not be evaluated (missing or unreadable input): it then fails, unless the model's
    `fail_on_missing` is false, and `reason` says why either way.
    """

    model: str
    gate: Gate
    rule: str
    expected: str
    actual: str
    champion: str | None
    verdict: Verdict
    reason: str
    metric: str | None = None
    value: float | None = None
    bound: float | None = None
    champion_value: float | None = None
    evaluated: bool = True
    interval: tuple[float, float] | None = None

    @property
    def passed(self) -> bool:
        """True when the verdict is "pass"."""
        return self.verdict == "pass"

    def to_json(self) -> dict[str, Any]:
        """The row's entry in `--json`."""
        return {
            "gate": self.gate,
            "metric": self.metric,
            "rule": self.rule,
            "expected": self.expected,
            "actual": self.actual,
            "champion": self.champion,
            "verdict": self.verdict,
            "reason": self.reason,
            "value": self.value,
            "bound": self.bound,
            "champion_value": self.champion_value,
            "evaluated": self.evaluated,
            "interval": None if self.interval is None else list(self.interval),
        }


@dataclass(frozen=True)
class ChampionInfo:
    """The model a candidate is compared with, and where it came from.

    `source` says how it was found, e.g. "registry: iris@v0.2.0 (prod)", "base branch
    origin/main", "--champion REF". `commit` is None when there is no champion yet; `note` says
    why, or anything a reader should know (e.g. "the base is this commit").
    """

    model: str
    version: str | None
    commit: str | None
    source: str
    rescored: bool = False
    note: str = ""

    @property
    def found(self) -> bool:
        """True when there is a champion to compare with."""
        return self.commit is not None

    def describe(self) -> str:
        """One line for the table: which champion, where from."""
        if not self.found:
            text = f"no champion yet ({self.source})"
        else:
            name = f"{self.model}@{self.version}" if self.version else f"commit {self.commit}"
            if self.version and self.commit:
                name += f" (commit {self.commit[:12]})"
            elif self.commit:
                name = f"commit {self.commit[:12]}"
            text = f"{name}, from {self.source}"
            text += "; re-scored on the current test set" if self.rescored else "; recorded metrics"
        return f"{text}; {self.note}" if self.note else text

    def to_json(self) -> dict[str, Any]:
        """The champion's entry in `--json`."""
        return {
            "model": self.model,
            "version": self.version,
            "commit": self.commit,
            "source": self.source,
            "rescored": self.rescored,
            "note": self.note,
        }


@dataclass(frozen=True)
class ModelGates:
    """Every rule of one model; `passed` when each row passed."""

    model: str
    passed: bool
    rows: tuple[GateRow, ...]
    champion: ChampionInfo | None

    def to_json(self) -> dict[str, Any]:
        """The model's entry in `--json`."""
        return {
            "model": self.model,
            "passed": self.passed,
            "champion": None if self.champion is None else self.champion.to_json(),
            "gates": [row.to_json() for row in self.rows],
        }


def model_gates(model: str, rows: tuple[GateRow, ...], champion: ChampionInfo | None) -> ModelGates:
    """A model's result from its rows (passed when every row passed)."""
    return ModelGates(model, all(r.passed for r in rows), rows, champion)


@dataclass(frozen=True)
class GatesReport:
    """The result of `mlcode gates`: every model's rows; `passed` when every model passed."""

    models: tuple[ModelGates, ...]
    passed: bool

    @classmethod
    def of(cls, models: tuple[ModelGates, ...]) -> GatesReport:
        """A report whose `passed` is every model's."""
        return cls(models, all(m.passed for m in models))

    def to_json(self) -> dict[str, Any]:
        """The `--json` document (see the README for each field)."""
        return {
            "format_version": FORMAT_VERSION,
            "passed": self.passed,
            "models": [m.to_json() for m in self.models],
        }

    def to_table(self) -> str:
        """A plain-text table per model, its champion line, and the overall verdict."""
        blocks: list[str] = []
        for m in self.models:
            lines = [f"Model {m.model}: {'PASSED' if m.passed else 'FAILED'}"]
            if m.champion is not None:
                lines.append(f"Champion: {m.champion.describe()}")
            if m.rows:
                lines.extend(_aligned([_cells(row) for row in m.rows]))
            else:
                lines.append("No gates declared for this model.")
            blocks.append("\n".join(lines))
        blocks.append(_summary(self))
        return "\n\n".join(blocks) + "\n"

    def to_markdown(self) -> str:
        """A Markdown summary for a pull-request body (at most MARKDOWN_LIMIT characters)."""
        parts = [f"## mlcode gates: {'passed' if self.passed else 'FAILED'}", ""]
        for m in self.models:
            mark = "passed" if m.passed else "**FAILED**"
            parts.append(f"### `{m.model}`: {mark}")
            parts.append("")
            if m.champion is not None:
                parts.append(f"Champion: {_md_cell(m.champion.describe())}")
                parts.append("")
            if not m.rows:
                parts.extend(["No gates declared for this model.", ""])
                continue
            parts.append("| " + " | ".join(_COLUMNS[1:]) + " |")
            parts.append("|" + " --- |" * (len(_COLUMNS) - 1))
            for row in m.rows:
                cells = _cells(row)[1:]
                cells[-2] = "pass" if row.passed else "**fail**"
                parts.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
            parts.append("")
        parts.append(_summary(self))
        return _fit("\n".join(parts) + "\n")


def _cells(row: GateRow) -> list[str]:
    return [
        row.model,
        row.gate,
        row.rule,
        row.expected,
        row.actual,
        row.champion if row.champion is not None else "-",
        row.verdict.upper() if not row.passed else row.verdict,
        row.reason,
    ]


def _aligned(rows: list[list[str]]) -> list[str]:
    table = [list(_COLUMNS), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(_COLUMNS) - 1)]
    out = []
    for r in table:
        head = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:-1]))
        out.append(f"{head}  {r[-1]}".rstrip())
    return out


def _summary(report: GatesReport) -> str:
    failed = [m.model for m in report.models if not m.passed]
    if not report.models:
        return "No models to evaluate."
    if not failed:
        return f"All gates passed ({len(report.models)} model(s))."
    return f"Gates failed for {', '.join(failed)}."


def _md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipe, no newline, no HTML)."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace("\\", "\\\\")
    return out.replace("|", "\\|").replace("\n", " ")


def _fit(text: str) -> str:
    """`text` cut to MARKDOWN_LIMIT characters with a note, when longer."""
    if len(text) <= MARKDOWN_LIMIT:
        return text
    note = "\n\n… (cut to fit a pull-request body; run `mlcode gates --json` for everything)\n"
    cut = text[: MARKDOWN_LIMIT - len(note)]
    return cut[: cut.rfind("\n") + 1 or len(cut)] + note
