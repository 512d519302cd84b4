"""Unit tests of `mlcode.compile.dvc`: stage shapes, params, determinism, golden files, and an
adversarial corpus proving that no ml.yaml value can change the structure of the YAML written."""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlcode.compile import dvc as cdvc
from mlcode.compile.header import is_pristine
from mlcode.project.scaffold import EXAMPLES, render_spec
from mlcode.resources import stack_presets
from mlcode.spec import semantic
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.model import MlSpec
from mlcode.spec.stack import Stack
from mlcode.spec.values import same
from mlcode.spec.yamlsource import parse

GOLDEN = Path(__file__).parent / "golden" / "dvc"


def local_stack() -> Stack:
    return parse_stack(load_file(str(stack_presets()["local"]), "stacks/local.yaml"))


def dvc_load(text: str) -> Any:
    """Parse YAML the way DVC does (ruamel, YAML 1.2, safe)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(text)


def base_spec() -> dict[str, Any]:
    return {
        "version": 1,
        "project": "demo",
        "data": {
            "customers": {
                "path": "data/customers.csv",
                "target": "churned",
                "features": {"numeric": ["age", "tenure"], "categorical": ["plan"]},
            },
            "customers_latest": {
                "path": "data/customers_latest.parquet",
                "features": {"numeric": ["age", "tenure"], "categorical": ["plan"]},
            },
            "houses": {
                "path": "data/houses.parquet",
                "target": "price",
                "id_column": "house_id",
                "time_column": "sold_at",
                "features": {"numeric": ["rooms", "area"]},
            },
        },
        "models": {
            "churn": {
                "task": "classification",
                "data": "customers",
                "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
                "params": {"max_depth": 6, "learning_rate": 0.1},
                "gates": {
                    "drift": {
                        "reference": "customers",
                        "current": "customers_latest",
                        "columns": {"plan": {"method": "chi2"}, "age": {"ignore": True}},
                        "max_drifted_share": 0.3,
                    }
                },
            },
            "price": {
                "task": "regression",
                "data": "houses",
                "estimator": "sklearn.linear_model.Ridge",
            },
        },
    }


def spec_of(data: dict[str, Any]) -> MlSpec:
    return MlSpec.model_validate(data)


def rendered(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    files = cdvc.render(spec_of(data), local_stack())
    return yaml.safe_load(files["dvc.yaml"]), yaml.safe_load(files["params.yaml"])


# --- shape -------------------------------------------------------------------------------------


def test_render_gives_dvc_and_params_with_pristine_headers() -> None:
    files = cdvc.render(spec_of(base_spec()), local_stack())
    assert list(files) == ["dvc.yaml", "params.yaml"]
    for text in files.values():
        assert is_pristine(text)
        assert text.endswith("\n")


def test_stage_set_and_order_per_model() -> None:
    dvc, _ = rendered(base_spec())
    assert list(dvc["stages"]) == [
        "prepare_churn",
        "train_churn",
        "evaluate_churn",
        "drift_churn",
        "prepare_price",
        "train_price",
        "evaluate_price",
    ]


def test_builtin_stage_shapes_follow_the_contract() -> None:
    dvc, _ = rendered(base_spec())
    stages = dvc["stages"]
    assert stages["prepare_churn"] == {
        "cmd": "mlcode step prepare churn",
        "deps": ["data/customers.csv"],
        "params": ["churn.data", "churn.split"],
        "outs": ["build/churn/train.parquet", "build/churn/test.parquet"],
    }
    assert stages["train_churn"] == {
        "cmd": "mlcode step train churn",
        "deps": ["build/churn/train.parquet"],
        "params": ["churn.task", "churn.estimator", "churn.params"],
        "outs": ["models/churn"],
    }
    assert stages["evaluate_churn"] == {
        "cmd": "mlcode step evaluate churn",
        "deps": ["models/churn", "build/churn/test.parquet"],
        "params": ["churn.metrics"],
        "outs": [
            {"plots/churn/confusion.json": {"cache": False}},
            {"plots/churn/roc.json": {"cache": False}},
            {"plots/churn/precision_recall.json": {"cache": False}},
        ],
        "metrics": [{"metrics/churn.json": {"cache": False}}],
    }
    assert stages["drift_churn"] == {
        "cmd": "mlcode step drift churn",
        "deps": ["data/customers.csv", "data/customers_latest.parquet"],
        "params": ["churn.drift"],
        "metrics": [{"metrics/churn-drift.json": {"cache": False}}],
        "outs": ["build/churn/drift-report.json", "build/churn/drift-report.html"],
    }
    assert stages["evaluate_price"]["outs"] == [
        {"plots/price/predicted_vs_actual.json": {"cache": False}},
        {"plots/price/residuals.json": {"cache": False}},
    ]


def test_top_level_plots_define_template_axes_and_title() -> None:
    dvc, _ = rendered(base_spec())
    assert dvc["plots"] == [
        {
            "plots/churn/confusion.json": {
                "template": "confusion",
                "x": "actual",
                "y": "predicted",
                "title": "churn: confusion matrix",
            }
        },
        {
            "plots/churn/roc.json": {
                "template": "simple",
                "x": "fpr",
                "y": "tpr",
                "title": "churn: ROC curve",
            }
        },
        {
            "plots/churn/precision_recall.json": {
                "template": "simple",
                "x": "recall",
                "y": "precision",
                "title": "churn: precision-recall curve",
            }
        },
        {
            "plots/price/predicted_vs_actual.json": {
                "template": "scatter",
                "x": "actual",
                "y": "predicted",
                "title": "price: predicted vs actual",
            }
        },
        {
            "plots/price/residuals.json": {
                "template": "scatter",
                "x": "predicted",
                "y": "residual",
                "title": "price: residuals",
            }
        },
    ]
    assert "metrics" not in dvc  # stage-level metrics are enough for `dvc metrics show/diff`


def test_params_follow_the_contract() -> None:
    _, params = rendered(base_spec())
    assert list(params) == ["churn", "price"]
    churn = params["churn"]
    assert list(churn) == ["task", "data", "split", "estimator", "params", "metrics", "drift"]
    assert churn["task"] == "classification"
    assert churn["data"] == {
        "path": "data/customers.csv",
        "format": "csv",
        "target": "churned",
        "numeric": ["age", "tenure"],
        "categorical": ["plan"],
    }
    assert churn["split"] == {"test_size": 0.2, "seed": 42, "stratify": True}
    assert churn["estimator"] == "sklearn.ensemble.HistGradientBoostingClassifier"
    assert list(churn["params"].items()) == [("learning_rate", 0.1), ("max_depth", 6)]
    assert churn["metrics"] == ["accuracy", "f1", "roc_auc"]
    assert churn["drift"] == {
        "reference": {
            "path": "data/customers.csv",
            "format": "csv",
            "numeric": ["age", "tenure"],
            "categorical": ["plan"],
        },
        "current": {"path": "data/customers_latest.parquet", "format": "parquet"},
        "method": "auto",
        "threshold": None,
        "columns": {
            "age": {"method": "auto", "threshold": None, "ignore": True},
            "plan": {"method": "chi2", "threshold": None, "ignore": False},
        },
        "max_drifted_share": 0.3,
    }
    price = params["price"]
    assert "drift" not in price
    assert price["params"] == {}
    assert price["split"]["stratify"] is False
    assert price["data"]["id_column"] == "house_id"
    assert price["data"]["time_column"] == "sold_at"
    assert price["metrics"] == ["rmse", "mae", "r2"]
    assert "id_column" not in churn["data"]
    assert "time_column" not in churn["data"]


def test_explicit_stratify_and_format_win() -> None:
    data = base_spec()
    data["models"]["churn"]["split"] = {"stratify": False, "test_size": 0.3, "seed": 7}
    data["data"]["customers"]["format"] = "parquet"
    _, params = rendered(data)
    assert params["churn"]["split"] == {"test_size": 0.3, "seed": 7, "stratify": False}
    assert params["churn"]["data"]["format"] == "parquet"


def test_drift_stage_only_with_a_drift_gate() -> None:
    data = base_spec()
    del data["models"]["churn"]["gates"]
    dvc, params = rendered(data)
    assert not any(name.startswith("drift_") for name in dvc["stages"])
    assert "drift" not in params["churn"]


def test_own_train_and_evaluate_commands() -> None:
    data = base_spec()
    churn = data["models"]["churn"]
    del churn["estimator"]
    churn["train"] = {
        "cmd": ["python src/train.py", "python src/card.py"],
        "deps": ["src/train.py", "src/card.py"],
        "outs": ["models/churn/model.pkl"],
    }
    churn["evaluate"] = {
        "cmd": "python src/eval.py",
        "deps": ["src/eval.py"],
        "metrics": "reports/churn.json",
        "plots": ["reports/roc.csv"],
    }
    dvc, params = rendered(data)
    stages = dvc["stages"]
    assert stages["train_churn"] == {
        "cmd": ["python src/train.py", "python src/card.py"],
        "deps": ["build/churn/train.parquet", "src/train.py", "src/card.py"],
        "params": ["churn.params"],
        "outs": ["models/churn/model.pkl"],
    }
    assert stages["evaluate_churn"] == {
        "cmd": "python src/eval.py",
        "deps": ["build/churn/test.parquet", "models/churn/model.pkl", "src/eval.py"],
        "params": ["churn.metrics"],
        "metrics": [{"reports/churn.json": {"cache": False}}],
        "plots": [{"reports/roc.csv": {"cache": False}}],
    }
    assert "estimator" not in params["churn"]
    assert list(params["churn"])[:4] == ["task", "data", "split", "params"]
    # Own evaluate: no built-in plot files, so no top-level definitions for this model.
    assert all(not next(iter(p)).startswith("plots/churn/") for p in dvc["plots"])


def test_own_train_without_outs_writes_the_model_folder() -> None:
    data = base_spec()
    churn = data["models"]["churn"]
    del churn["estimator"]
    churn["train"] = {"cmd": "python train.py"}
    dvc, _ = rendered(data)
    assert dvc["stages"]["train_churn"]["outs"] == ["models/churn"]
    assert dvc["stages"]["train_churn"]["deps"] == ["build/churn/train.parquet"]
    assert dvc["stages"]["evaluate_churn"]["deps"] == ["models/churn", "build/churn/test.parquet"]


def test_empty_spec_gives_empty_documents() -> None:
    dvc, params = rendered({"version": 1, "project": "empty"})
    assert dvc == {"stages": {}}
    assert params == {}


# --- user stages -------------------------------------------------------------------------------


def user_stages() -> dict[str, Any]:
    return {
        "report": {
            "cmd": "python report.py ${churn.split.seed}",
            "deps": ["report.py", "metrics/churn.json"],
            "outs": [{"report.html": {"cache": False}}],
            "desc": "HTML report",
        },
        "augment": {
            "foreach": ["a", "b"],
            "do": {"cmd": "python augment.py ${item}", "outs": ["aug/${item}.csv"]},
        },
        "by_key": {
            "foreach": {"small": {"n": 1}, "big": {"n": 9}},
            "do": {"cmd": "echo ${item.n} > ${key}.txt", "outs": ["${key}.txt"]},
        },
        "grid": {
            "matrix": {"zeta": [1, 2], "alpha": ["x", "y"]},
            "cmd": ["echo ${item.zeta}", "echo ${item.alpha}"],
        },
    }


def test_user_stages_pass_through_after_mlcode_stages_sorted() -> None:
    data = base_spec()
    data["stages"] = user_stages()
    dvc, _ = rendered(data)
    names = list(dvc["stages"])
    assert names[-4:] == ["augment", "by_key", "grid", "report"]
    assert names[0] == "prepare_churn"
    stages = dvc["stages"]
    assert stages["report"] == user_stages()["report"]
    assert stages["augment"] == user_stages()["augment"]
    assert stages["by_key"] == user_stages()["by_key"]
    assert stages["grid"] == user_stages()["grid"]
    # Matrix key order names DVC's generated stages: kept as written, not sorted.
    assert list(stages["grid"]["matrix"]) == ["zeta", "alpha"]
    assert list(stages["by_key"]["foreach"]) == ["small", "big"]
    # A string cmd stays a string, a list stays a list.
    assert isinstance(stages["report"]["cmd"], str)
    assert isinstance(stages["grid"]["cmd"], list)


def test_user_stage_keeps_explicit_non_default_flags_only() -> None:
    data = base_spec()
    data["stages"] = {
        "s": {"cmd": "true", "frozen": True, "always_changed": False, "deps": []},
    }
    dvc, _ = rendered(data)
    assert dvc["stages"]["s"] == {"cmd": "true", "frozen": True}


def test_foreach_with_keys_outside_do_is_refused_by_the_spec() -> None:
    data = base_spec()
    data["stages"] = {"s": {"foreach": [1], "do": {"cmd": "echo ${item}"}, "desc": "x"}}
    with pytest.raises(ValidationError, match=r"move desc under `do`"):
        spec_of(data)


# --- determinism -------------------------------------------------------------------------------


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(v) for k, v in reversed(list(value.items()))}
    return value


def test_render_twice_is_byte_identical() -> None:
    data = base_spec()
    data["stages"] = user_stages()
    stack = local_stack()
    assert cdvc.render(spec_of(data), stack) == cdvc.render(spec_of(copy.deepcopy(data)), stack)


def test_key_order_of_the_spec_does_not_change_the_output() -> None:
    data = base_spec()
    data["stages"] = {k: v for k, v in user_stages().items() if k != "grid"}
    flipped = {**data, "data": _reversed(data["data"]), "models": _reversed(data["models"])}
    flipped["stages"] = dict(reversed(list(data["stages"].items())))
    assert list(flipped["models"]) != list(data["models"])
    stack = local_stack()
    assert cdvc.render(spec_of(data), stack) == cdvc.render(spec_of(flipped), stack)


# --- golden files of the `mlcode init --example X` specs --------------------------------------


def example_spec(key: str) -> MlSpec:
    from mlcode.project.examples import build

    text = render_spec("demo", "local", EXAMPLES[key], build(key).numeric)
    source = parse(text, "ml.yaml")
    spec = parse_spec(source)
    assert semantic.check(spec, source.positions) == []
    return spec


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_golden_examples(key: str) -> None:
    files = cdvc.render(example_spec(key), local_stack())
    folder = GOLDEN / key
    if os.environ.get("MLCODE_UPDATE_GOLDEN") == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    for name, text in files.items():
        golden = folder / name
        assert golden.is_file(), f"missing {golden}; run with MLCODE_UPDATE_GOLDEN=1"
        assert text == golden.read_text(encoding="utf-8"), (
            f"{name} of example {key} differs from {golden}; if intended, rerun with "
            "MLCODE_UPDATE_GOLDEN=1 and review the diff"
        )


# --- adversarial values ------------------------------------------------------------------------

NASTY = [
    'it\'s "quoted"',
    "line one\nline two\n",
    "trailing newline\n",
    "${{ github.event.pull_request.title }}",
    "$(rm -rf /)",
    "`whoami`",
    "&a",
    "*a",
    "!!python/object/apply:os.system ['id']",
    "!tag",
    "key: value",
    "- item",
    "# not a comment",
    "{a: 1}",
    "[1, 2]",
    "| block",
    "> folded",
    "%YAML 1.1",
    "---",
    "...",
    "?",
    "@at",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "null",
    "~",
    "",
    "true",
    "1e3",
    "1E+3",
    "0o17",
    "0x1F",
    "1_000",
    "012",
    "1:20",
    ".inf",
    "-.inf",
    ".nan",
    "2024-01-01",
    "=",
    "<<",
    "3.14",
    "\u00e9t\u00e9 \u65e5\u672c \U0001f600",
    "\u2028line sep\u2029",
    "tab\there",
    "nul-free \x07 bell",
    "\ufeffbom",
    "x" * 10_000,
    ("long words " * 1200).strip(),
]


def _column_ok(value: str) -> bool:
    return bool(value) and value == value.strip() and not any(c in value for c in "\n\r\t\x00")


def adversarial_spec(value: str) -> dict[str, Any]:
    data = base_spec()
    col = value if _column_ok(value) else "plain"
    ds = data["data"]["customers"]
    ds["features"] = {"numeric": [col, "age"], "categorical": [f"c{col}"]}
    ds["target"] = f"t{col}"
    ds["id_column"] = f"i{col}"
    latest = data["data"]["customers_latest"]
    latest["features"] = {"numeric": [col, "age"], "categorical": [f"c{col}"]}
    churn = data["models"]["churn"]
    churn["params"] = {
        "text": value,
        value or "empty": [value, {value or "k": value}],
        "n": 1,
    }
    churn["gates"]["drift"]["columns"] = {col: {"method": "psi", "threshold": 0.2}}
    data["stages"] = {
        "nasty": {
            "cmd": value or "true",
            "desc": value,
            "deps": [value or "x"],
            "meta": {"note": value, "list": [value]},
        },
        "nasty_list": {"cmd": [value or "true", value or "true"]},
        "nasty_each": {"foreach": [value, value + "2"], "do": {"cmd": value or "true"}},
        "nasty_matrix": {"matrix": {"v": [value, "b"]}, "cmd": value or "true"},
    }
    return data


def _same_under_both_readers(text: str, expected: dict[str, Any]) -> None:
    assert same(yaml.safe_load(text), expected)
    assert same(_plain(dvc_load(text)), expected)


def _plain(value: Any) -> Any:
    """ruamel's safe loader returns plain types already; normalise just in case."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
def test_adversarial_values_never_change_the_structure(value: str) -> None:
    spec = spec_of(adversarial_spec(value))
    files = cdvc.render(spec, local_stack())
    for name, expected in (
        ("dvc.yaml", cdvc.dvc_data(spec)),
        ("params.yaml", cdvc.params_data(spec)),
    ):
        text = files[name]
        assert is_pristine(text)
        _same_under_both_readers(text, expected)
    dvc = yaml.safe_load(files["dvc.yaml"])
    assert list(dvc) == ["stages", "plots"]
    assert dvc["stages"]["nasty"]["desc"] == value
    assert dvc["stages"]["nasty_list"]["cmd"] == [value or "true", value or "true"]
    params = yaml.safe_load(files["params.yaml"])
    assert params["churn"]["params"]["text"] == value
    assert list(params) == ["churn", "price"]


@pytest.mark.parametrize("value", ["1e3", "0o17", "1_000", "+1", "0x_1", ".5", "-1E-3"])
def test_yaml12_numbers_are_quoted_for_dvc(value: str) -> None:
    text = cdvc.dump({"k": value, value: 1})
    assert dvc_load(text) == {"k": value, value: 1}
    assert yaml.safe_load(text) == {"k": value, value: 1}


def test_numbers_and_booleans_keep_their_type() -> None:
    data = {"i": 3, "f": 0.1, "big": 1e300, "inf": math.inf, "b": True, "n": None, "s": "3"}
    text = cdvc.dump(data)
    assert same(yaml.safe_load(text), data)
    assert same(dvc_load(text), data)
    assert same(yaml.safe_load(cdvc.dump({"nan": math.nan})), {"nan": math.nan})


def test_same_tells_bool_from_int_and_order() -> None:
    assert not same({"a": True}, {"a": 1})
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not same([1], [1, 1])
    assert same({"a": [math.nan]}, {"a": [math.nan]})


def test_shared_lists_are_not_written_as_anchors() -> None:
    shared = ["a", "b"]
    text = cdvc.dump({"x": shared, "y": shared})
    assert "&" not in text
    assert "*" not in text


text_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(
    params=st.dictionaries(
        text_values,
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text_values,
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(text_values, inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=4,
    ),
    cmd=text_values,
)
def test_any_params_and_cmd_round_trip(params: dict[str, Any], cmd: str) -> None:
    data = base_spec()
    data["models"]["churn"]["params"] = params
    data["stages"] = {"user": {"cmd": cmd or "true", "desc": cmd}}
    spec = spec_of(data)
    files = cdvc.render(spec, local_stack())
    _same_under_both_readers(files["params.yaml"], cdvc.params_data(spec))
    _same_under_both_readers(files["dvc.yaml"], cdvc.dvc_data(spec))


# --- DVC interpolation ---------------------------------------------------------------------------


def test_paths_with_dollar_brace_are_escaped_for_dvc() -> None:
    data = base_spec()
    data["data"]["customers"]["path"] = "data/${x}.csv"
    churn = data["models"]["churn"]
    del churn["estimator"]
    churn["train"] = {"cmd": "python train.py ${churn.params}", "outs": ["models/${m}"]}
    dvc, params = rendered(data)
    stages = dvc["stages"]
    assert stages["prepare_churn"]["deps"] == ["data/\\${x}.csv"]
    assert stages["drift_churn"]["deps"][0] == "data/\\${x}.csv"
    assert stages["train_churn"]["outs"] == ["models/\\${m}"]
    assert stages["evaluate_churn"]["deps"][0] == "models/\\${m}"
    # The user's own command is passed as written: interpolation is theirs to use.
    assert stages["train_churn"]["cmd"] == "python train.py ${churn.params}"
    # params.yaml is not interpolated by DVC: the path is written as is.
    assert params["churn"]["data"]["path"] == "data/${x}.csv"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="${}\\ab.", max_size=20))
def test_escape_is_undone_exactly_by_dvc(value: str) -> None:
    from dvc.parsing.context import Context

    assert Context().resolve_str(cdvc.escape(value)) == value
