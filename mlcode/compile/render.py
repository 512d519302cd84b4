"""Render the CI templates safely: a sandboxed jinja2 whose every output must pass a YAML-safe filter.

Templates live in `templates/<ci>/*.yml.j2` (shipped as `mlcode/_data/templates`). They use square
delimiters, `[[ value | yq ]]` and `[% if %]`, so GitHub's own `${{ }}` expressions stay plain text.

Safety rules, enforced here rather than by reviewing templates:

- `StrictUndefined`: a misspelt variable is an error, never an empty string.
- The `finalize` hook refuses any `[[ ]]` output that is not a `Safe` value; only the `yq` filter
  (a YAML scalar or flow collection) and `comment` (a short comment text) return `Safe`. A template
  that prints a raw value fails to render.
- `yq` escapes every character a YAML parser could read as structure or fold away, and in the
  `github` dialect neutralizes `${{` so no value can smuggle in an expression. In the `gitlab`
  dialect a `$` (a variable reference GitLab would expand) is refused.
- `Trusted` values are built by mlcode from validated parts (a secret expression, a cache key, a
  shell line whose parts went through `shlex.quote`); `yq` still quotes them but skips the dialect
  check.
- `sh` quotes a value for a POSIX shell; its result still needs `yq` to reach the file.

Templates put `[[ x | yq ]]` only where a whole YAML value (or key) goes, never inside other text;
shell scripts in templates are static and read values from `env:` / `variables:` as "$VAR".

The module also resolves the CI view of a project (`resolve` → `CiProject`), the typed values both
the GitHub and the GitLab renderer start from.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import FileSystemLoader, StrictUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment

from mlcode import __version__
from mlcode.errors import UserError
from mlcode.resources import data_dir
from mlcode.spec import install, names
from mlcode.spec.model import MlSpec
from mlcode.spec.semantic import matrix_limit
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import render_path

Dialect = Literal["github", "gitlab"]


class RenderError(RuntimeError):
    """A template or a rendered file broke a safety rule: a bug in mlcode (exit code 4)."""


class Safe(str):
    """Text that a filter made safe to print into a YAML file at any position of a value."""

    __slots__ = ()


class Trusted(str):
    """A string mlcode assembled from validated parts; `yq` does not apply the dialect check."""

    __slots__ = ()


class ShellQuoted(str):
    """A value quoted for a POSIX shell by `sh` (still to be made YAML-safe by `yq`)."""

    __slots__ = ()


# Plain YAML scalars we emit unquoted: start with a letter or '_', a conservative charset, and
# nothing a YAML 1.1 or 1.2 parser would read as a boolean or null.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@-]*")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"})
_COMMENT = re.compile(r"[A-Za-z0-9 ._/()+:*,-]{0,200}")  # `*` and `,`: a cron expression
_GH_EXPR_OPEN = "${{"


def _printable(code: int) -> bool:
    """YAML's c-printable minus line breaks other than the JSON-escaped ones."""
    return (
        0x20 <= code <= 0x7E
        or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029))
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar that any YAML 1.1/1.2 parser reads back as exactly `text`."""
    out = []
    for ch in json.dumps(text, ensure_ascii=False)[1:-1]:
        code = ord(ch)
        if _printable(code):
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:  # pragma: no cover - astral characters are printable
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _neutralize_github(text: str) -> str:
    """Make `${{` literal for GitHub: `${{ '${{' }}` is an expression whose value is `${{`."""
    return text.replace(_GH_EXPR_OPEN, "${{ '${{' }}")


def _scalar(value: object, dialect: Dialect) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        text = str(value)
        if not isinstance(value, Trusted):
            if dialect == "github" and _GH_EXPR_OPEN in text:
                return yaml_string(_neutralize_github(text))
            if dialect == "gitlab" and "$" in text:
                raise RenderError(
                    f"value {text!r} holds '$', which GitLab would expand as a variable"
                )
        if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
            return text
        return yaml_string(text)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v, dialect) for v in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{_scalar(str(k), dialect)}: {_scalar(v, dialect)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise RenderError(f"cannot write a {type(value).__name__} into YAML")


def yq(value: object, dialect: Dialect = "github") -> Safe:
    """`value` as YAML text (a scalar, or a flow list / mapping) that parses back to `value`."""
    return Safe(_scalar(value, dialect))


def sh(value: object) -> ShellQuoted:
    """`value` quoted as one POSIX shell word."""
    if not isinstance(value, str | int):
        raise RenderError(f"cannot quote a {type(value).__name__} for a shell")
    return ShellQuoted(shlex.quote(str(value)))


def comment(value: object) -> Safe:
    """Short text for a YAML comment (an action's tag): a restricted charset, one line."""
    text = str(value)
    if not _COMMENT.fullmatch(text):
        raise RenderError(f"{text!r} cannot go into a YAML comment")
    return Safe(text)


def _finalize(value: object) -> object:
    if isinstance(value, Safe):
        return value
    raise RenderError(
        f"template printed {value!r} without the `yq` filter; every value must go through it"
    )


def environment(dialect: Dialect) -> SandboxedEnvironment:
    """The jinja2 environment for one CI dialect's templates."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(data_dir("templates"))),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        auto_reload=False,
        cache_size=0,
    )
    env.filters.clear()  # only our filters: no `safe`, no `e`, nothing that bypasses yq
    env.filters["yq"] = lambda value: yq(_defined(value), dialect)
    env.filters["sh"] = lambda value: sh(_defined(value))
    env.filters["comment"] = lambda value: comment(_defined(value))
    env.filters["join"] = lambda value, sep=" ": _join(_defined(value), sep)
    return env


def _defined(value: object) -> object:
    """`value`, or the StrictUndefined error when a template names something that is not there."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError here
        raise RenderError("undefined value")  # pragma: no cover - only for a lenient Undefined
    return value


def _join(values: object, sep: str = " ") -> str:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise RenderError("join needs a list of strings")
    return sep.join(values)


def _render_with(load: Any, what: str, context: Mapping[str, Any], dialect: Dialect) -> str:
    """Load a template from the dialect's environment with `load` and render it."""
    from jinja2 import TemplateError

    try:
        return str(load(environment(dialect)).render(**context))
    except TemplateError as exc:
        raise RenderError(f"{what}: {exc}") from exc


def render(template: str, context: Mapping[str, Any], dialect: Dialect) -> str:
    """Render `template` (a path under templates/) with `context`; raise RenderError on misuse."""
    return _render_with(
        lambda env: env.get_template(template), f"template {template}", context, dialect
    )


def render_string(source: str, context: Mapping[str, Any], dialect: Dialect) -> str:
    """Render template text (for tests of the filters and hooks)."""
    return _render_with(lambda env: env.from_string(source), "template", context, dialect)


def parse_back(text: str, file: str) -> dict[Any, Any]:
    """The rendered YAML as data; RenderError unless it is one mapping."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RenderError(f"rendered {file} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"rendered {file} is not a mapping")
    return data


# --- The CI view of a project, shared by the GitHub and GitLab renderers ---------------------
# Remote options whose secret is a whole file (a private key, a service-account JSON): the CI
# variable holds the file's content, written to a private temporary file at run time.
FILE_OPTIONS = frozenset({"keyfile", "key_file", "credentialpath", "gdrive_service_account_json"})
# (remote type, DVC option) → the environment variable the remote's library reads by itself.
NATIVE_ENV = {
    ("s3", "access_key_id"): "AWS_ACCESS_KEY_ID",
    ("s3", "secret_access_key"): "AWS_SECRET_ACCESS_KEY",
    ("s3", "session_token"): "AWS_SESSION_TOKEN",
}
_OPTION = re.compile(r"[a-z][a-z0-9_]{0,63}")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")


@dataclass(frozen=True)
class Credential:
    """One secret DVC option of the remote, and the CI variable (secret) holding it."""

    option: str
    var: str
    native: bool  # the remote's library reads `var` from the environment itself
    is_file: bool  # the secret is a file's content (a key), written to a private file


@dataclass(frozen=True)
class ModelJob:
    """What CI does for one model."""

    name: str
    base: str
    branch: str
    mode: str


@dataclass(frozen=True)
class GroupJob:
    """What CI does for one group of `ci.groups`: one retrain job for its models."""

    name: str
    models: tuple[ModelJob, ...]

    @property
    def model_names(self) -> tuple[str, ...]:
        """The group's models, in the order ml.yaml lists them."""
        return tuple(m.name for m in self.models)


@dataclass(frozen=True)
class CiProject:
    """Everything the CI templates use."""

    project: str
    python: str
    runner: str
    requirement: str
    remote: str
    credentials: tuple[Credential, ...]
    models: tuple[ModelJob, ...]
    bases: tuple[str, ...]
    schedule: str | None
    retrain_on_data_change: bool
    pull_request_checks: bool
    forge: str
    token_env: str | None
    groups: tuple[GroupJob, ...] | None = None  # `ci.groups`: one retrain job per group

    @property
    def native(self) -> tuple[Credential, ...]:
        """Credentials passed as environment variables to every step that talks to the remote."""
        return tuple(c for c in self.credentials if c.native)

    @property
    def configured(self) -> tuple[Credential, ...]:
        """Credentials written into `.dvc/config.local` with `dvc remote modify --local`."""
        return tuple(c for c in self.credentials if not c.native)

    @property
    def model_names(self) -> tuple[str, ...]:
        """Model names in ml.yaml order."""
        return tuple(m.name for m in self.models)

    @property
    def commits_to_base(self) -> bool:
        """Some model is promoted by a direct commit to its base branch (runs must not overlap)."""
        return any(m.mode == "commit" for m in self.models)

    @property
    def opens_prs(self) -> bool:
        """Some model is promoted through a pull/merge request on a forge."""
        return self.forge != "none" and any(m.mode == "pr" for m in self.models)


def requirement(spec: MlSpec, stack: Stack) -> str:
    """The pip argument CI installs mlcode with: `ci.install` of ml.yaml, else the stack's, else
    the distribution pinned to this very version; always with the extra the remote needs."""
    chosen = spec.ci.install or stack.ci_install
    source = install.parse(chosen) if chosen else install.default(__version__)
    return install.requirement(source, stack.remote.type)


def resolve(spec: MlSpec, stack: Stack) -> CiProject:
    """The CI view of a project; UserError for a stack value that cannot go into CI safely."""
    creds = []
    for option, var in sorted(stack.remote.credentials.items()):
        if not _OPTION.fullmatch(option):
            raise UserError(
                f"stack {stack.name!r}: remote credential option {option!r} is not a DVC option "
                "name (lowercase letters, digits and '_')"
            )
        creds.append(
            Credential(
                option=option,
                var=var,
                native=NATIVE_ENV.get((stack.remote.type, option)) == var,
                is_file=option in FILE_OPTIONS,
            )
        )
    models = []
    for name, model in spec.models.items():
        promo = model.promotion
        branch = f"{promo.branch_prefix}{name}"
        for label, value in (("base", promo.base), ("branch_prefix", branch)):
            if not _BRANCH.fullmatch(value):
                raise UserError(
                    f"model {name!r}: promotion {label} {value!r} cannot be used as a branch name"
                )
        models.append(ModelJob(name=name, base=promo.base, branch=branch, mode=promo.mode))
    too_many = matrix_limit(spec, stack.ci)
    if too_many is not None:
        raise UserError(f"ml.yaml {render_path(too_many[0])}: {too_many[1]}")
    groups = None
    if spec.ci.groups is not None and models:
        by_name = {m.name: m for m in models}
        listed = [m for members in spec.ci.groups.values() for m in members]
        if sorted(listed) != sorted(by_name) or not all(spec.ci.groups.values()):
            raise UserError(
                "ml.yaml ci.groups: every model must be in exactly one non-empty group; "
                "`mlcode validate` says where it is not"
            )
        groups = tuple(
            GroupJob(name, tuple(by_name[m] for m in members))
            for name, members in spec.ci.groups.items()
        )
    bases = tuple(sorted({m.base for m in models})) or ("main",)
    token_env = stack.forge.token_env
    if token_env is not None and not names.ENV_VAR.fullmatch(token_env):  # pragma: no cover
        raise UserError(f"stack {stack.name!r}: forge token_env {token_env!r} is not a name")
    return CiProject(
        project=spec.project,
        python=spec.ci.python,
        runner=spec.ci.runner or stack.runner.label,
        requirement=requirement(spec, stack),
        remote=stack.remote.name,
        credentials=tuple(creds),
        models=tuple(models),
        bases=bases,
        schedule=spec.ci.schedule,
        retrain_on_data_change=spec.ci.retrain_on_data_change,
        pull_request_checks=spec.ci.pull_request_checks,
        forge=stack.forge.type,
        token_env=token_env,
        groups=groups,
    )
