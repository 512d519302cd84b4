"""GitHub Actions expressions (`${{ ... }}` and `if:`), evaluated as GitHub does for the forms the
generated workflows use, for the CI job runner of the tests (tests/e2e/ci_runner.py).

Literals (`'text'` with `''` escapes, numbers, true, false, null), property access (`a.b`,
`a['b']`), `!`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, parentheses and the functions
`always()`, `success()`, `failure()`, `cancelled()`, `contains`, `startsWith`, `endsWith`,
`format`, `join`, `toJSON`, `fromJSON`. Semantics follow GitHub's documentation: `==` coerces
values of different types to numbers, strings compare ignoring case, `&&` / `||` return an operand,
a missing property is null, null is '' in a string. Anything else — an unknown context, an unknown
property of `github` or `runner`, a matrix key the entry lacks, `hashFiles` — raises
`ExpressionError`, so the harness never silently computes something GitHub would not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ExpressionError(Exception):
    """An expression the harness refuses to evaluate (unknown context, syntax it does not play)."""


# What the harness provides of `github` and `runner`; anything else is refused.
GITHUB_KEYS = frozenset(
    {
        "token",
        "repository",
        "repository_owner",
        "ref",
        "ref_name",
        "base_ref",
        "head_ref",
        "event",
        "event_name",
        "sha",
        "workspace",
        "server_url",
        "api_url",
        "run_id",
        "actor",
        "workflow",
        "job",
    }
)
RUNNER_KEYS = frozenset({"temp", "os", "arch"})
STATUS_FUNCTIONS = ("always", "success", "failure", "cancelled")

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


@dataclass
class Status:
    """The job's state when a step's `if:` is evaluated."""

    failed: bool = False
    cancelled: bool = False


@dataclass
class Contexts:
    """The named contexts an expression may read (plain JSON-like values)."""

    values: Mapping[str, Any]
    status: Status = field(default_factory=Status)
    matrix_keys: frozenset[str] | None = None  # None: no matrix in this job


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read the expression {text!r} at {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match[kind]))
        pos = match.end()
    return out


def to_string(value: Any) -> str:
    """A value as GitHub writes it into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) or (isinstance(a, int | float) and isinstance(b, int | float)):
        if isinstance(a, dict | list):
            return a is b
        return bool(a == b)
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return _number(a) == _number(b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a.lower()
        y: Any = b.lower()
    else:
        x, y = _number(a), _number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    return bool({"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op])


class _Parser:
    def __init__(self, text: str, ctx: Contexts) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.pos = 0
        self.ctx = ctx

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.pos += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.eq()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.eq()
            value = right if truthy(value) else value
        return value

    def eq(self) -> Any:
        value = self.cmp()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.cmp()
            value = _equal(value, right) if op == "==" else not _equal(value, right)
        return value

    def cmp(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "<"), ("op", "<="), ("op", ">"), ("op", ">=")):
            op = self.take()[1]
            value = _compare(op, value, self.unary())
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value, path = self.primary()
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"{name!r} after '.' in {self.text!r}")
                key: Any = name
            else:
                key = self.or_()
                self.take("]")
            if key == "*":  # pragma: no cover - the tokenizer gives '*' as an op
                raise ExpressionError("object filters (*) are not played by the harness")
            path = [*path, to_string(key)] if path is not None else None
            value = self._index(value, key, path)
        return value

    def _index(self, value: Any, key: Any, path: list[str] | None) -> Any:
        if path is not None and len(path) == 2:
            root, name = path
            if root == "github" and name not in GITHUB_KEYS:
                raise ExpressionError(f"github.{name} is not provided by the harness")
            if root == "runner" and name not in RUNNER_KEYS:
                raise ExpressionError(f"runner.{name} is not provided by the harness")
            if root == "matrix":
                keys = self.ctx.matrix_keys
                if keys is None:
                    raise ExpressionError(f"matrix.{name} read in a job without a matrix")
                if name not in keys:
                    raise ExpressionError(f"matrix.{name}: the matrix entry has no key {name!r}")
        if isinstance(value, dict):
            for k, v in value.items():  # property names ignore case
                if isinstance(key, str) and k.lower() == key.lower():
                    return v
            return None
        if isinstance(value, list) and isinstance(key, int | float) and not isinstance(key, bool):
            index = int(key)
            return value[index] if 0 <= index < len(value) else None
        return None

    def primary(self) -> tuple[Any, list[str] | None]:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'"), None
        if kind == "number":
            return (float(int(text, 16)) if "x" in text.lower() else float(text)), None
        if (kind, text) == ("op", "("):
            value = self.or_()
            self.take(")")
            return value, None
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false"):
            return text == "true", None
        if text == "null":
            return None, None
        if self.peek() == ("op", "("):
            self.take()
            args: list[Any] = []
            while self.peek() != ("op", ")"):
                args.append(self.or_())
                if self.peek() == ("op", ","):
                    self.take()
            self.take(")")
            return self.call(text, args), None
        if text not in self.ctx.values:
            raise ExpressionError(f"the context {text!r} is not provided by the harness")
        return self.ctx.values[text], [text]

    def call(self, name: str, args: list[Any]) -> Any:
        status = self.ctx.status
        functions: dict[str, Callable[..., Any]] = {
            "always": lambda: True,
            "success": lambda: not status.failed and not status.cancelled,
            "failure": lambda: status.failed,
            "cancelled": lambda: status.cancelled,
            "contains": _contains,
            "startswith": lambda a, b: to_string(a).lower().startswith(to_string(b).lower()),
            "endswith": lambda a, b: to_string(a).lower().endswith(to_string(b).lower()),
            "format": _format,
            "join": lambda a, sep=",": (
                to_string(sep).join(to_string(x) for x in a)
                if isinstance(a, list)
                else to_string(a)
            ),
            "tojson": lambda a: json.dumps(a, indent=2),
            "fromjson": lambda a: json.loads(to_string(a)),
        }
        function = functions.get(name.lower())
        if function is None:
            raise ExpressionError(f"the function {name}() is not played by the harness")
        return function(*args)


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(_equal(item, needle) for item in haystack)
    return to_string(needle).lower() in to_string(haystack).lower()


def _format(template: Any, *args: Any) -> str:
    text = to_string(template)
    out = re.sub(r"\{(\d+)\}", lambda m: to_string(args[int(m[1])]), text.replace("{{", "\0"))
    return out.replace("\0", "{").replace("}}", "}")


def evaluate(expression: str, ctx: Contexts) -> Any:
    """The value of one expression (without `${{ }}`)."""
    return _Parser(expression, ctx).parse()


def _closing(text: str, start: int) -> int:
    """Index of the `}}` that closes the expression opened before `start` (quotes respected)."""
    i, quoted = start, False
    while i < len(text):
        if text[i] == "'":
            quoted = not quoted
        elif not quoted and text.startswith("}}", i):
            return i
        i += 1
    raise ExpressionError(f"an expression is not closed in {text!r}")


def interpolate(text: str, ctx: Contexts) -> Any:
    """A string with every `${{ expr }}` replaced; a string that is exactly one expression gives
    the expression's value (not stringified), as GitHub does for `with:` / `env:` values."""
    stripped = text.strip()
    if stripped.startswith("${{") and stripped.endswith("}}"):
        end = _closing(stripped, 3)
        if end == len(stripped) - 2:
            return evaluate(stripped[3:end], ctx)
    out, pos = [], 0
    while True:
        start = text.find("${{", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = _closing(text, start + 3)
        out.append(text[pos:start])
        out.append(to_string(evaluate(text[start + 3 : end], ctx)))
        pos = end + 2


def condition(value: Any, ctx: Contexts) -> bool:
    """An `if:` as GitHub reads it: `${{ }}` optional, `success() &&` implied unless a status
    function appears."""
    if value is None:
        value = "success()"
    if isinstance(value, bool):
        return value and truthy(evaluate("success()", ctx))
    text = str(value).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    uses_status = any(re.search(rf"\b{name}\s*\(", text) for name in STATUS_FUNCTIONS)
    if not uses_status:
        text = f"success() && ({text})"
    return truthy(evaluate(text, ctx))
