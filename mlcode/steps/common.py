"""What every built-in step shares: reading a model's section of params.yaml, naming the model and
stage in errors, and writing outputs so that a failed step leaves nothing half-written.

Steps read only `params.yaml` (never ml.yaml): DVC tracks exactly the params keys a stage lists, so a
step that read anything else could go stale without DVC noticing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcode.errors import UserError
from mlcode.layout import PARAMS_FILE
from mlcode.spec.names import stage_name
from mlcode.spec.yaml12 import load_yaml12


class StepError(UserError):
    """A built-in step failed for a reason the user can fix; the message names model and stage."""


def fail(step: str, model: str, message: str, *, hint: str | None = None) -> StepError:
    """A StepError whose message starts with the model and the DVC stage."""
    return StepError(f"model {model!r}, stage {stage_name(step, model)}: {message}", hint=hint)


@dataclass(frozen=True)
class DataParams:
    """`M.data` of params.yaml."""

    path: str
    format: str
    target: str | None
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    id_column: str | None = None
    time_column: str | None = None

    @property
    def features(self) -> list[str]:
        """Feature columns, numeric first (the order the model sees them)."""
        return [*self.numeric, *self.categorical]

    @property
    def kept_columns(self) -> list[str]:
        """Every column prepare keeps: id, time, features, target (each once)."""
        cols = [self.id_column, self.time_column, *self.features, self.target]
        out: list[str] = []
        for col in cols:
            if col is not None and col not in out:
                out.append(col)
        return out


@dataclass(frozen=True)
class SplitParams:
    """`M.split` of params.yaml."""

    test_size: float
    seed: int
    stratify: bool


@dataclass(frozen=True)
class ModelParams:
    """One model's section of params.yaml, checked."""

    name: str
    task: str
    data: DataParams
    split: SplitParams
    estimator: str | None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()

    @property
    def is_classification(self) -> bool:
        """True for classification, False for regression."""
        return self.task == "classification"


def read_section(root: Path, model: str, step: str) -> dict[str, Any]:
    """`model`'s raw section of `root/params.yaml`, or a StepError naming model and stage."""
    import yaml

    path = root / PARAMS_FILE
    regenerate = "Run `mlcode apply` to regenerate params.yaml from ml.yaml."
    try:
        # YAML 1.2, as DVC writes it: `dvc exp run -S M.params.tol=1e-05` stays a float
        doc = load_yaml12(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(
            step,
            model,
            f"{PARAMS_FILE} not found in {root}",
            hint="Run `mlcode apply` to generate it (steps run from the repository root).",
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(step, model, f"cannot read {PARAMS_FILE}: {exc}", hint=regenerate) from None
    section = doc.get(model) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        known = ", ".join(sorted(str(k) for k in doc)) if isinstance(doc, dict) else "none"
        raise fail(
            step,
            model,
            f"{PARAMS_FILE} has no section for this model (models there: {known})",
            hint=regenerate,
        )
    return section


def load_params(root: Path, model: str, step: str) -> ModelParams:
    """Read and check `model`'s section of `root/params.yaml`."""
    section = read_section(root, model, step)
    try:
        return _parse(model, section)
    except (KeyError, TypeError, ValueError) as exc:
        raise fail(
            step,
            model,
            f"{PARAMS_FILE} section {model!r} is malformed ({type(exc).__name__}: {exc})",
            hint="Run `mlcode apply` to regenerate it; do not edit params.yaml by hand.",
        ) from None


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of column names")
    return tuple(value)


def _opt_str(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{what} must be a string")


def _parse(model: str, section: Any) -> ModelParams:
    if not isinstance(section, dict):
        raise ValueError("expected a mapping")
    task = section["task"]
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be classification or regression, not {task!r}")
    data = section["data"]
    if not isinstance(data, dict):
        raise ValueError("data must be a mapping")
    fmt = data.get("format") or (
        "parquet" if str(data["path"]).lower().endswith((".parquet", ".pq")) else "csv"
    )
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"data.format must be csv or parquet, not {fmt!r}")
    split = section.get("split") or {}
    if not isinstance(split, dict):
        raise ValueError("split must be a mapping")
    test_size = float(split.get("test_size", 0.2))
    if not 0 < test_size < 1:
        raise ValueError(f"split.test_size must be between 0 and 1, not {test_size}")
    stratify = split.get("stratify")
    params = section.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError("params must be a mapping")
    return ModelParams(
        name=model,
        task=task,
        data=DataParams(
            path=str(data["path"]),
            format=fmt,
            target=_opt_str(data.get("target"), "data.target"),
            numeric=_str_list(data.get("numeric"), "data.numeric"),
            categorical=_str_list(data.get("categorical"), "data.categorical"),
            id_column=_opt_str(data.get("id_column"), "data.id_column"),
            time_column=_opt_str(data.get("time_column"), "data.time_column"),
        ),
        split=SplitParams(
            test_size=test_size,
            seed=int(split.get("seed", 42)),
            stratify=(task == "classification") if stratify is None else bool(stratify),
        ),
        estimator=_opt_str(section.get("estimator"), "estimator"),
        params={str(k): v for k, v in params.items()},
        metrics=_str_list(section.get("metrics"), "metrics"),
    )


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Outputs:
    """A step's output files, staged in temp files and renamed into place together at the end.

    `with Outputs(root, [paths]) as out:` gives `out.temp(path)` to write each output to; when the
    block ends without an error every staged file is renamed over its final path. When it fails, the
    temp files are removed and so are the final paths (a stale output beside a fresh one would be
    half of a result), so DVC never caches a partial result.
    """

    def __init__(self, root: Path, paths: list[str]) -> None:
        self.root = root
        self.paths = list(paths)
        self._staged: dict[str, Path] = {}

    def temp(self, rel: str) -> Path:
        """A temp path in the final file's folder to write `rel` to (renamed on success)."""
        if rel not in self.paths:  # pragma: no cover - programming error
            raise ValueError(f"{rel} is not a declared output")
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        self._staged[rel] = Path(tmp)
        return Path(tmp)

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            missing = [p for p in self.paths if p not in self._staged]
            if missing:  # pragma: no cover - programming error
                self._discard()
                raise RuntimeError(f"outputs not written: {missing}")
            for rel, tmp in self._staged.items():
                os.chmod(tmp, 0o666 & ~_umask())
                os.replace(tmp, self.root / rel)
            return
        self._discard()

    def _discard(self) -> None:
        for tmp in self._staged.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        for rel in self.paths:
            with contextlib.suppress(OSError):
                (self.root / rel).unlink()


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temp folder beside `final`; on success it replaces `final` as a whole.

    On failure the temp folder and any old `final` are removed, so no half-written folder remains.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove(final)
        raise
    os.chmod(tmp, 0o777 & ~_umask())
    old: Path | None = None
    if final.exists() or final.is_symlink():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        _remove(old)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        _remove(old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
