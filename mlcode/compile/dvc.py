"""Compile ml.yaml into `dvc.yaml` and `params.yaml`: pure, no I/O, byte-identical for equal input.

Both files are built as plain dicts and dumped by PyYAML, so no value from ml.yaml can change a
document's structure; the text is parsed back and compared before it is returned.

Order (fixed, so the output never depends on the order of keys in ml.yaml):

- `dvc.yaml` `stages:` holds mlcode's stages first: the ingest stage of each dataset whose `source`
  is a command (`ingest_<dataset>`, in sorted dataset-name order; its one out is the dataset, so
  every stage reading the dataset runs after it), then model by model in sorted model-name order, each
  model's steps in pipeline order (prepare, train, evaluate, drift); then the user's `stages:` in
  sorted stage-name order; then `artifacts:` (DVC's model registry: one entry per model, sorted by
  name).

The built-in evaluate step's plot files are stage `plots` (cache false) that carry their template,
axes and title, so `dvc plots show/diff` draws each once, as intended. They are never plain
`cache: false` outs: DVC leaves a stage with such an out out of its run-cache, and every CI runner
would then evaluate every model again instead of restoring it.
- `artifacts:` declares each model for `dvc artifacts get` and GTO (type `model`): its path is the
  model file of the built-in train step (`model.skops`), or a model's own train command's first
  output (its model folder when it names none); the description and labels name the task and the
  estimator. DVC resolves a model's versions and stages from GTO's git tags at fetch time.
- `params.yaml` holds one top-level key per model, sorted; estimator `params` and drift `columns`
  are sorted by name. Lists (features, metrics, commands) keep the order written in ml.yaml.
- The inside of a user stage is passed to DVC as written (only keys that differ from the defaults);
  its nested mappings (`matrix`, `foreach`, `do`, ...) keep their order, since DVC derives the names
  of generated stages from it.

DVC interpolates `${...}` in dvc.yaml values. Paths mlcode puts in its own stages (datasets, the
deps and outs of own train/evaluate commands) are escaped (`${` → `\\${`, which DVC turns back
into `${`), so a file name containing `${` is used literally. Commands written by the user (own
`train`/`evaluate` `cmd`, user stages) are passed as written: interpolation is theirs to use.

YAML 1.1 (PyYAML, used by mlcode's steps) and YAML 1.2 (ruamel, used by DVC) read some plain
scalars differently (`1e3`, `0o17`); the dumper quotes any string either version would read as
something else, so both read the same data.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from mlcode import layout
from mlcode.compile.header import with_header
from mlcode.spec import names
from mlcode.spec.model import CmdSource, Dataset, MlSpec, Model, UserStage
from mlcode.spec.stack import Stack
from mlcode.spec.values import same

# How DVC's built-in plot templates read each plot kind of the built-in evaluate step.
PLOT_PROPS: dict[str, dict[str, str]] = {
    "confusion": {"template": "confusion", "x": "actual", "y": "predicted"},
    "roc": {"template": "simple", "x": "fpr", "y": "tpr"},
    "precision_recall": {"template": "simple", "x": "recall", "y": "precision"},
    "predicted_vs_actual": {"template": "scatter", "x": "actual", "y": "predicted"},
    "residuals": {"template": "scatter", "x": "predicted", "y": "residual"},
}
PLOT_TITLES: dict[str, str] = {
    "confusion": "confusion matrix",
    "roc": "ROC curve",
    "precision_recall": "precision-recall curve",
    "predicted_vs_actual": "predicted vs actual",
    "residuals": "residuals",
}
_NO_CACHE: dict[str, Any] = {"cache": False}


def render(spec: MlSpec, stack: Stack) -> dict[str, str]:
    """`{"dvc.yaml": text, "params.yaml": text}` for `spec` (the stack does not affect them)."""
    del stack  # the pipeline is the same on every stack
    return {
        layout.DVC_FILE: with_header(dump(dvc_data(spec))),
        layout.PARAMS_FILE: with_header(dump(params_data(spec))),
    }


# --- params.yaml -----------------------------------------------------------------------------


def params_data(spec: MlSpec) -> dict[str, Any]:
    """The params.yaml document: one key per model, sorted."""
    return {name: _model_params(spec, name, spec.models[name]) for name in sorted(spec.models)}


def _model_params(spec: MlSpec, name: str, model: Model) -> dict[str, Any]:
    ds = _dataset(spec, name, model.data, "data")
    out: dict[str, Any] = {"task": model.task, "data": _data_params(ds)}
    stratify = model.split.stratify
    out["split"] = {
        "test_size": model.split.test_size,
        "seed": model.split.seed,
        "stratify": model.task == "classification" if stratify is None else stratify,
    }
    if model.train is None:
        out["estimator"] = model.estimator
    out["params"] = {key: model.params[key] for key in sorted(model.params)}
    out["metrics"] = list(model.resolved_metrics)
    drift = model.gates.drift
    if drift is not None:
        ref = _dataset(spec, name, drift.reference, "gates.drift.reference")
        cur = _dataset(spec, name, drift.current, "gates.drift.current")
        out["drift"] = {
            "reference": {
                "path": ref.path,
                "format": ref.resolved_format,
                "numeric": list(ref.features.numeric),
                "categorical": list(ref.features.categorical),
            },
            "current": {"path": cur.path, "format": cur.resolved_format},
            "method": drift.method,
            "threshold": drift.threshold,
            "columns": {
                col: {
                    "method": drift.columns[col].method,
                    "threshold": drift.columns[col].threshold,
                    "ignore": drift.columns[col].ignore,
                }
                for col in sorted(drift.columns)
            },
            "max_drifted_share": drift.max_drifted_share,
        }
    return out


def _data_params(ds: Dataset) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": ds.path,
        "format": ds.resolved_format,
        "target": ds.target,
        "numeric": list(ds.features.numeric),
        "categorical": list(ds.features.categorical),
    }
    if ds.id_column is not None:
        data["id_column"] = ds.id_column
    if ds.time_column is not None:
        data["time_column"] = ds.time_column
    return data


def _dataset(spec: MlSpec, model: str, name: str, field: str) -> Dataset:
    ds = spec.data.get(name)
    if ds is None:
        # `mlcode validate` reports this with its location; compile only sees validated specs.
        raise RuntimeError(f"bug: models.{model}.{field} names unknown dataset {name!r}")
    return ds


# --- dvc.yaml --------------------------------------------------------------------------------


def dvc_data(spec: MlSpec) -> dict[str, Any]:
    """The dvc.yaml document: mlcode's stages, then the user's, then the models' artifacts."""
    stages: dict[str, Any] = {}
    for data in sorted(spec.data):
        source = spec.data[data].source
        if isinstance(source, CmdSource):
            stages[names.ingest_stage(data)] = ingest_stage(spec.data[data].path, source)
    for name in sorted(spec.models):
        stages.update(_model_stages(spec, name, spec.models[name]))
    for stage in sorted(spec.stages):
        stages[stage] = user_stage(stage, spec.stages[stage])
    doc: dict[str, Any] = {"stages": stages}
    if spec.models:
        doc["artifacts"] = {name: artifact(name, spec.models[name]) for name in sorted(spec.models)}
    return doc


def _plot_props(model: str, kind: str) -> dict[str, str]:
    """How DVC draws one plot file of the built-in evaluate step: template, axes, title."""
    return {**PLOT_PROPS[kind], "title": f"{model}: {PLOT_TITLES[kind]}"}


def artifact(name: str, model: Model) -> dict[str, Any]:
    """The `artifacts:` entry of one model: what `dvc artifacts get <repo> <name>` downloads."""
    paths = layout.model_paths(name)
    if model.train is None:
        path = paths.model_file
        how = f"estimator {model.estimator}"
        labels = [model.task, str(model.estimator)]
    else:
        path = escape(model.train.outs[0]) if model.train.outs else paths.model_dir
        how = "its own train command"
        labels = [model.task]
    return {
        "path": path,
        "type": "model",
        "desc": f"{model.task} model {name} trained on dataset {model.data} with {how}",
        "labels": labels,
    }


def _model_stages(spec: MlSpec, name: str, model: Model) -> dict[str, dict[str, Any]]:
    paths = layout.model_paths(name, model.evaluate.metrics if model.evaluate else None)
    ds = _dataset(spec, name, model.data, "data")
    stages: dict[str, dict[str, Any]] = {}

    stages[names.stage_name("prepare", name)] = {
        "cmd": _step("prepare", name),
        "deps": [escape(ds.path)],
        "params": [f"{name}.data", f"{name}.split"],
        "outs": [paths.train_split, paths.test_split],
    }

    if model.train is None:
        train_outs = [paths.model_dir]
        stages[names.stage_name("train", name)] = {
            "cmd": _step("train", name),
            "deps": [paths.train_split],
            "params": [f"{name}.task", f"{name}.estimator", f"{name}.params"],
            "outs": train_outs,
        }
    else:
        train_outs = _unique([escape(p) for p in model.train.outs]) or [paths.model_dir]
        stages[names.stage_name("train", name)] = {
            "cmd": _cmd(model.train.cmd),
            "deps": _unique([paths.train_split, *(escape(p) for p in model.train.deps)]),
            "params": [f"{name}.params"],
            "outs": train_outs,
        }

    if model.evaluate is None:
        stages[names.stage_name("evaluate", name)] = {
            "cmd": _step("evaluate", name),
            "deps": _unique([*train_outs, paths.test_split]),
            "params": [f"{name}.metrics"],
            # Plot files are stage `plots` carrying their template and axes, drawn once. Never
            # plain `cache: false` outs: DVC does not run-cache a stage with such an out, so every
            # runner would evaluate every model again.
            "plots": [
                {paths.plot(kind): {**_NO_CACHE, **_plot_props(name, kind)}}
                for kind in layout.plot_kinds(model.task)
            ],
            "metrics": [{paths.metrics: dict(_NO_CACHE)}],
        }
    else:
        own = model.evaluate
        evaluate: dict[str, Any] = {
            "cmd": _cmd(own.cmd),
            "deps": _unique(
                [paths.test_split, *train_outs, *(escape(p) for p in own.deps)],
            ),
            "params": [f"{name}.metrics"],
            "metrics": [{escape(own.metrics): dict(_NO_CACHE)}],
        }
        if own.plots:
            evaluate["plots"] = [{p: dict(_NO_CACHE)} for p in _unique(map(escape, own.plots))]
        stages[names.stage_name("evaluate", name)] = evaluate

    drift = model.gates.drift
    if drift is not None:
        ref = _dataset(spec, name, drift.reference, "gates.drift.reference")
        cur = _dataset(spec, name, drift.current, "gates.drift.current")
        stages[names.stage_name("drift", name)] = {
            "cmd": _step("drift", name),
            "deps": _unique([escape(ref.path), escape(cur.path)]),
            "params": [f"{name}.drift"],
            "metrics": [{paths.drift_metrics: dict(_NO_CACHE)}],
            "outs": [paths.drift_report, paths.drift_html],
        }
    return stages


def ingest_stage(path: str, source: CmdSource) -> dict[str, Any]:
    """The stage running a dataset's ingest command: its one (cached) out is the dataset."""
    stage: dict[str, Any] = {"cmd": _cmd(source.cmd)}
    if source.deps:
        stage["deps"] = _unique(escape(p) for p in source.deps)
    stage["outs"] = [escape(path)]
    if source.always_changed:
        stage["always_changed"] = True
    return stage


def _step(step: str, model: str) -> str:
    """The command DVC runs for a built-in step of a model."""
    return f"mlcode step {step} {model}"


def _cmd(cmd: str | list[str]) -> str | list[str]:
    """A user command as written: a string stays a string, a list stays a list."""
    return list(cmd) if isinstance(cmd, list) else cmd


def user_stage(name: str, stage: UserStage) -> dict[str, Any]:
    """A user stage in DVC's own schema: the keys the user set to a non-default value."""
    body: dict[str, Any] = stage.model_dump(mode="python", exclude_defaults=True)
    if stage.foreach is not None:
        # The spec allows only `foreach` and `do` here (DVC's schema); `foreach` first, then its
        # body, as DVC's docs write it.
        return {"foreach": body["foreach"], "do": body["do"]}
    return body


def _unique(items: Any) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def escape(value: str) -> str:
    """`value` made literal for DVC's `${...}` interpolation (DVC turns `\\${` back into `${`)."""
    return value.replace("${", "\\${")


# --- YAML dumping ----------------------------------------------------------------------------

# Plain scalars that YAML 1.2 (ruamel, DVC's reader) resolves to a non-string while YAML 1.1
# (PyYAML) would not (ruamel's 1.2 patterns): registered as implicit types so the dumper quotes
# such strings. 1.2's booleans and nulls are a subset of 1.1's, which PyYAML already quotes.
_YAML12_IMPLICIT: tuple[tuple[str, str, str], ...] = (
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
        "-+0123456789_",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL)$", "~nN"),
    ("tag:yaml.org,2002:value", r"^(?:=)$", "="),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never emits anchors, indents lists like DVC, and quotes 1.1/1.2-ambiguous
    strings."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # With allow_unicode, PyYAML writes NEL and the Unicode line/paragraph separators raw in plain
    # and single-quoted scalars, where a reader takes them for line breaks: double quotes escape them.
    style = '"' if any(c in _LINE_BREAKS for c in data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_LINE_BREAKS = frozenset("\x85\u2028\u2029")
_Dumper.add_representer(str, _represent_str)


for _tag, _pattern, _first in _YAML12_IMPLICIT:
    _Dumper.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))


def dump(data: Any) -> str:
    """YAML text of `data`, checked to parse back to exactly `data`."""
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    # libyaml's parser when present (the check is several times faster); both read the same data.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if not same(yaml.load(text, Loader=loader), data):  # noqa: S506 - a safe loader
        raise RuntimeError("bug: generated YAML does not parse back to the data it was made from")
    return text
