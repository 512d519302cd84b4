"""The built-in `prepare` step: read the dataset, check its columns, split it, write Parquet.

Only the declared columns are kept (id, time, numeric and categorical features, target). Numeric
features become float64, categorical features strings (missing values stay missing), so train and
evaluate see the same types whatever the file format. The split is seeded and, for classification
with `split.stratify`, stratified by the target.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcode.layout import model_paths
from mlcode.steps.common import ModelParams, Outputs, fail, load_params

if TYPE_CHECKING:
    import pandas as pd

STEP = "prepare"
_EXAMPLES = 3  # bad values quoted in an error


def run(root: Path, model: str) -> None:
    """Run prepare for `model` in the repository at `root`."""
    params = load_params(root, model, STEP)
    frame = read_dataset(root, params)
    frame = check_columns(frame, params)
    train, test = split(frame, params)
    del frame  # peak memory: the splits only
    paths = model_paths(model)
    with Outputs(root, [paths.train_split, paths.test_split]) as out:
        train.to_parquet(out.temp(paths.train_split), index=False, engine="pyarrow")
        del train
        test.to_parquet(out.temp(paths.test_split), index=False, engine="pyarrow")


def read_dataset(root: Path, params: ModelParams) -> pd.DataFrame:
    """Read only the declared columns of the dataset; name any that are missing."""
    import pandas as pd

    data = params.data
    model = params.name
    if data.target is None:
        raise fail(
            STEP,
            model,
            f"dataset {data.path} has no `target` column declared; the built-in steps need one",
        )
    if not data.features:
        raise fail(STEP, model, f"dataset {data.path} declares no feature columns")
    path = root / data.path
    if not path.is_file():
        raise fail(
            STEP,
            model,
            f"dataset file {data.path} not found",
            hint="Check `data.*.path` in ml.yaml, or fetch the data with `dvc pull`.",
        )
    wanted = data.kept_columns
    parquet = data.format == "parquet"
    try:
        if parquet:
            import pyarrow.parquet as pq

            available = list(pq.read_schema(path).names)
        else:
            available = [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except Exception as exc:  # pandas and pyarrow raise many types for a broken file
        raise fail(STEP, model, f"cannot read {data.path} as {data.format}: {exc}") from None
    _check_present(model, data.path, wanted, available)
    try:
        if parquet:
            return pd.read_parquet(path, columns=wanted, engine="pyarrow")
        return pd.read_csv(path, usecols=wanted, low_memory=False)
    except Exception as exc:
        raise fail(STEP, model, f"cannot read {data.path} as {data.format}: {exc}") from None


def _check_present(model: str, file: str, wanted: list[str], available: list[str]) -> None:
    have = set(available)
    missing = [c for c in wanted if c not in have]
    if missing:
        shown = ", ".join(available[:20]) + (" ..." if len(available) > 20 else "")
        raise fail(
            STEP,
            model,
            f"{file} has no column(s) {', '.join(repr(c) for c in missing)} "
            f"declared in ml.yaml (columns in the file: {shown})",
        )


def check_columns(frame: pd.DataFrame, params: ModelParams) -> pd.DataFrame:
    """Coerce every declared column to its kind, or name the columns that do not fit."""
    import pandas as pd

    model = params.name
    data = params.data
    problems: list[str] = []
    out: dict[str, Any] = {}
    for col in data.kept_columns:
        series = frame[col]
        if col in data.numeric:
            converted, problem = _numeric(series, col, "numeric feature")
            if problem:
                problems.append(problem)
            out[col] = converted
        elif col in data.categorical:
            out[col] = _categorical(series)
        else:
            out[col] = series
    assert data.target is not None
    target = frame[data.target]
    if params.is_classification:
        out[data.target] = _class_labels(target)
    else:
        converted, problem = _numeric(target, data.target, "regression target")
        if problem:
            problems.append(problem)
        out[data.target] = converted
    if problems:
        raise fail(STEP, model, f"{data.path}: " + "; ".join(problems))
    result = pd.DataFrame(out, index=frame.index, copy=False)
    _check_target(result[data.target], params)
    return result


def _numeric(series: pd.Series, col: str, kind: str) -> tuple[pd.Series, str | None]:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype("float64"), None
    converted = pd.to_numeric(series, errors="coerce")
    bad = series[converted.isna() & series.notna()]
    if len(bad):
        examples = ", ".join(repr(v) for v in bad.drop_duplicates().head(_EXAMPLES).tolist())
        return series, (
            f"{kind} {col!r} holds {len(bad)} non-numeric value(s), e.g. {examples} "
            f"(declare it under `categorical` or clean the data)"
        )
    return converted.astype("float64"), None


def _categorical(series: pd.Series) -> pd.Series:
    import pandas as pd

    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series
    return series.astype("str")


def _class_labels(series: pd.Series) -> pd.Series:
    """Class labels of one consistent type: integers stay integers, anything mixed becomes str."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
        return series
    if pd.api.types.is_float_dtype(series):
        values = series.dropna()
        if len(values) and bool((values == values.round()).all()):
            return series.astype("Int64") if series.isna().any() else series.astype("int64")
        return series
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series
    return series.astype("str")


def _check_target(target: pd.Series, params: ModelParams) -> None:
    model = params.name
    col = params.data.target
    missing = int(target.isna().sum())
    if missing:
        raise fail(
            STEP,
            model,
            f"target column {col!r} of {params.data.path} has {missing} missing value(s); "
            "drop or fill those rows before training",
        )
    if len(target) == 0:
        raise fail(STEP, model, f"{params.data.path} has no rows")
    if params.is_classification and target.nunique() < 2:
        only = target.iloc[0]
        raise fail(
            STEP,
            model,
            f"target column {col!r} of {params.data.path} has a single class ({only!r}); "
            "classification needs at least two",
        )


def split(frame: pd.DataFrame, params: ModelParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split, stratified by the target when asked (classification only)."""
    from sklearn.model_selection import train_test_split

    target = params.data.target
    assert target is not None
    stratify = frame[target] if params.is_classification and params.split.stratify else None
    try:
        train, test = train_test_split(
            frame,
            test_size=params.split.test_size,
            random_state=params.split.seed,
            stratify=stratify,
        )
    except ValueError as exc:
        hint = None
        if stratify is not None:
            hint = "Set `split: {stratify: false}` for this model, or add rows of the rare classes."
        raise fail(
            STEP, params.name, f"cannot split {params.data.path}: {exc}", hint=hint
        ) from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


if __name__ == "__main__":  # pragma: no cover - `python -m mlcode.steps.prepare MODEL`
    from mlcode.steps import main_for

    main_for(STEP)
