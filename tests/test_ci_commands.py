"""Generated CI calls only what exists: every `mlcode <command> [args]` that the GitHub workflows
and the GitLab pipeline of every shipped stack run is a command of `mlcode.cli.COMMANDS`, and its
arguments parse with that click command (shell variables such as "$MODEL" replaced by a model
name). A workflow calling a command that does not exist, or an option it lacks, fails here instead
of on the user's first scheduled run.
"""

from __future__ import annotations

import importlib
import re
import shlex
from typing import Any

import click
import pytest
import yaml

from mlcode.cli import COMMANDS
from mlcode.compile import compile_project
from mlcode.project.scaffold import EXAMPLES, render_spec
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.yamlsource import parse

# Two models (a matrix), one promoted by a direct commit, one through a pull request.
TWO_MODELS = """\
version: 1
project: churn
stack: STACK
data:
  customers:
    path: data/customers.csv
    target: churned
    features: {numeric: [age, tenure], categorical: [plan]}
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
  churn-linear:
    task: classification
    data: customers
    estimator: sklearn.linear_model.LogisticRegression
    promotion: {mode: commit}
ci:
  schedule: "0 3 * * 1"
"""

# The command lines the generated CI is known to run: each must be found (so an extractor that
# finds nothing cannot pass), and each must parse.
EXPECTED = {
    "validate",
    "check",
    "run --pull",
    "gates MODEL --format markdown",
    "retrain MODEL --pull --push --json",
    "promote --finalize",
}

# The same models retrained as one group (`ci.groups`): the job's command takes the group's models.
GROUPED = TWO_MODELS + "  groups: {all: [churn, churn-linear]}\n"

_SEPARATORS = {";", "&&", "||", "|", "(", ")", "{", "}", "!", "&"}
_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "time"}
_REDIRECT = re.compile(r"\d*>&\d+|\d*>>?\s*\S+|<<?\s*\S+")
_HEREDOC = re.compile(r"<<-?\s*'?\"?([A-Za-z_]+)'?\"?")
_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")


def shell_lines(script: str) -> list[str]:
    """The logical lines of a shell script: continuations joined, comments and heredoc bodies
    (a Python snippet, say) dropped."""
    out: list[str] = []
    pending = ""
    heredoc: str | None = None
    for raw in script.splitlines():
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        if line.strip().startswith("#"):
            continue
        match = _HEREDOC.search(line)
        if match:
            heredoc = match.group(1)
        out.append(line)
    return out


def _without_redirections(line: str) -> str:
    """`line` with its redirections (`2>&1`, `> file`, `<<'EOF'`) outside quotes removed."""
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(line):
        char = line[i]
        if quote is None and (i == 0 or line[i - 1] in " \t"):
            match = _REDIRECT.match(line, i)
            if match:
                out.append(" ")
                i = match.end()
                continue
        if quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
        out.append(char)
        i += 1
    return "".join(out)


def mlcode_calls(script: str) -> list[list[str]]:
    """Every `mlcode ...` simple command in `script`, as its argument words (after `mlcode`)."""
    calls: list[list[str]] = []
    for line in shell_lines(script):
        lexer = shlex.shlex(_without_redirections(line), posix=True, punctuation_chars=";&|(){}!")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
        start = True
        current: list[str] | None = None
        for word in [*words, ";"]:
            if word in _SEPARATORS or set(word) <= set(";&|"):
                if current is not None:
                    calls.append(current)
                current, start = None, True
            elif current is not None:
                current.append(word)
            elif start and word in _KEYWORDS:
                continue
            else:
                if start and word == "mlcode":
                    current = []
                start = False
    return calls


def scripts(path: str, text: str) -> list[str]:
    """The shell scripts of one generated CI file: GitHub `run:` steps, GitLab script lists."""
    data: dict[Any, Any] = yaml.safe_load(text)
    if path.startswith(".github/"):
        return [
            step["run"]
            for job in data["jobs"].values()
            for step in job.get("steps", [])
            if "run" in step
        ]
    out = []
    for job in data.values():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                out += job.get(key, [])
    return out


def compiled_ci() -> list[tuple[str, str, str, str]]:
    """(case, path, text, a model name) for every CI file of every shipped stack."""
    from mlcode.project.examples import build

    specs = {"two-models": TWO_MODELS, "grouped": GROUPED}
    for key, example in EXAMPLES.items():
        specs[key] = render_spec("demo", "STACK", example, build(key).numeric)
    out = []
    for stack_name, stack_path in sorted(stack_presets().items()):
        stack = parse_stack(load_file(str(stack_path), f"stacks/{stack_name}.yaml"))
        for case, text in specs.items():
            spec = parse_spec(parse(text.replace("STACK", stack_name), "ml.yaml"))
            model = sorted(spec.models)[0]
            for path, body in compile_project(spec, stack).items():
                if path.startswith(".github/") or path == ".gitlab-ci.yml":
                    out.append((f"{stack_name}/{case}", path, body, model))
    return out


def _command(name: str) -> click.Command:
    module, attr = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Command)
    return command


def test_the_extractor_finds_commands_and_only_commands() -> None:
    script = (
        'echo "## mlcode report"\n'
        "for model in $MODELS; do\n"
        '  if ! mlcode gates "$model" --format markdown 2>&1; then\n'
        "    status=fail\n"
        "  fi\n"
        "done\n"
        'mlcode gates "$MODEL" --json | tee "$RUNNER_TEMP/x.json"\n'
        'mlcode gates "$MODEL" --json > out.json || { cat out.json; exit 1; }\n'
        "# mlcode promote in a comment\n"
        "git config credential.helper \\\n"
        "  '!f() { echo x; }; f'\n"
        "python - <<'PY' || echo mlcode\n"
        "print('mlcode promote never')\n"
        "PY\n"
        "mlcode promote --finalize\n"
    )
    assert mlcode_calls(script) == [
        ["gates", "$model", "--format", "markdown"],
        ["gates", "$MODEL", "--json"],
        ["gates", "$MODEL", "--json"],
        ["promote", "--finalize"],
    ]


def test_generated_ci_calls_existing_commands_with_arguments_they_accept() -> None:
    files = compiled_ci()
    assert {path for _, path, _, _ in files} == {
        ".github/workflows/mlcode-pr.yml",
        ".github/workflows/mlcode-retrain.yml",
        ".github/workflows/mlcode-finalize.yml",
        ".gitlab-ci.yml",
    }
    seen: set[str] = set()
    problems: dict[str, list[str]] = {}  # problem → where
    for case, path, text, model in files:
        for script in scripts(path, text):
            for call in mlcode_calls(script):
                shown = " ".join(_VARIABLE.sub("MODEL", word) for word in call)
                seen.add(shown)
                where = f"{case} {path}"
                if not call or call[0] not in COMMANDS:
                    problem = f"mlcode {shown}: no such command in mlcode.cli.COMMANDS"
                    problems.setdefault(problem, []).append(where)
                    continue
                args = [_VARIABLE.sub(model, word) for word in call[1:]]
                try:
                    _command(call[0]).make_context(call[0], args)
                except click.ClickException as exc:
                    problem = f"mlcode {shown}: {exc.format_message()}"
                    problems.setdefault(problem, []).append(where)
    assert seen >= EXPECTED, f"not found in the generated CI: {sorted(EXPECTED - seen)}"
    assert not problems, "\n".join(
        f"{problem} (in {len(where)} files, e.g. {where[0]})"
        for problem, where in sorted(problems.items())
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_imports(name: str) -> None:
    assert _command(name).name == name
