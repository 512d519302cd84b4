"""Reading two datasets one column at a time and comparing them: the I/O edge of drift detection.

Memory stays bounded by about one column of both datasets at a time (plus one CSV block):

- Parquet files are read column by column with pyarrow (`ParquetFile.read(columns=[name])`).
- A CSV file is parsed once, streamed block by block (`pyarrow.csv.open_csv`) into a temporary
  Parquet file holding only the declared columns, typed as declared (numeric → float64,
  categorical → text); that file is then read column by column and removed afterwards. Its size is
  about 8 bytes per numeric value, in the system temp folder (`TMPDIR`).

Numeric columns are read as float64 (integers and booleans convert; NaN, null and infinities are
missing). Categorical values are compared as text (Parquet integers `1` and CSV `1` are one value)
and reduced to value counts in Arrow, so a categorical column never becomes Python objects.
A column missing from a file, a numeric column holding text, an unreadable or empty file: each is a
`UserError` naming the file and the column.
"""

from __future__ import annotations

import contextlib
import csv
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcode.drift.detect import (
    CategoricalSample,
    ColumnSettings,
    DriftResult,
    Kind,
    NumericSample,
    Sample,
    detect_drift,
)
from mlcode.drift.plotdata import PlotData, plot_data
from mlcode.drift.stattests import FloatArray
from mlcode.errors import UserError

_CSV_BLOCK = 16 << 20  # bytes of CSV text per streamed block (one Parquet row group each)
_CSV_COLUMN = re.compile(r"In CSV column #(\d+)")


@dataclass(frozen=True)
class DataFile:
    """A dataset file: where it is, how to name it in messages, and its format."""

    path: Path
    name: str
    format: str  # "csv" | "parquet"

    @classmethod
    def at(cls, root: Path, relpath: str, fmt: str | None = None) -> DataFile:
        """The file at `relpath` under `root`; the format is inferred from the suffix when unset."""
        if fmt is None:
            fmt = "parquet" if relpath.lower().endswith((".parquet", ".pq")) else "csv"
        return cls(root / relpath, relpath, fmt)


class ColumnReader:
    """Reads the declared columns of one dataset file, one column per call."""

    def __init__(self, parquet: Any, file: DataFile) -> None:
        self._parquet = parquet
        self._file = file

    @property
    def num_rows(self) -> int:
        """Rows in the file."""
        return int(self._parquet.metadata.num_rows)

    def numeric(self, name: str) -> FloatArray:
        """Column `name` as float64 with missing values (NaN, null, ±inf) dropped."""
        import pyarrow as pa
        import pyarrow.compute as pc

        column = self._parquet.read(columns=[name]).column(0)
        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
            column = pc.cast(column, kind)
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_decimal(kind)
            or pa.types.is_null(kind)
        ):
            raise UserError(
                f"{self._file.name}: column {name!r} is declared numeric but holds {kind} values",
                hint="Declare it under `categorical`, or fix the data.",
            )
        present = pc.drop_null(pc.cast(column, pa.float64()))
        # Read the value buffers directly: pyarrow's to_numpy imports pandas (a second of start-up).
        parts = [
            np.frombuffer(chunk.buffers()[1], dtype=np.float64)[
                chunk.offset : chunk.offset + len(chunk)
            ]
            for chunk in present.chunks
            if len(chunk)
        ]
        values: FloatArray = np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)
        return values[np.isfinite(values)]

    def categorical(self, name: str) -> dict[str, int]:
        """Counts of each value of column `name`, as text; missing values are not counted."""
        import pyarrow as pa
        import pyarrow.compute as pc

        column = self._parquet.read(columns=[name]).column(0)
        try:
            text = pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise UserError(
                f"{self._file.name}: column {name!r} ({column.type}) cannot be read as "
                f"categories: {exc}"
            ) from None
        counts = pc.value_counts(pc.drop_null(text))
        values = counts.field("values").to_pylist()
        numbers = counts.field("counts").to_pylist()
        return {str(v): int(n) for v, n in zip(values, numbers, strict=True)}


@contextlib.contextmanager
def open_columns(file: DataFile, kinds: Mapping[str, Kind]) -> Iterator[ColumnReader]:
    """A `ColumnReader` over `file` after checking that every column in `kinds` is there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not file.path.is_file():
        raise UserError(f"{file.name}: dataset file not found", hint=f"Looked for {file.path}.")
    if file.format == "parquet":
        try:
            parquet = pq.ParquetFile(file.path)
        except (pa.ArrowException, OSError) as exc:
            raise UserError(f"{file.name}: not a readable Parquet file: {exc}") from None
        with contextlib.closing(parquet):
            _check_columns(file, list(parquet.schema_arrow.names), kinds)
            yield ColumnReader(parquet, file)
        return
    with tempfile.TemporaryDirectory(prefix="mlcode-drift-") as tmp:
        staged = Path(tmp) / "columns.parquet"
        _csv_to_parquet(file, kinds, staged)
        with contextlib.closing(pq.ParquetFile(staged)) as parquet:
            yield ColumnReader(parquet, file)


def compare_files(
    reference: DataFile,
    current: DataFile,
    numeric: Sequence[str],
    categorical: Sequence[str],
    dataset: ColumnSettings,
    per_column: Mapping[str, ColumnSettings],
    max_drifted_share: float,
    plots: dict[str, PlotData] | None = None,
) -> DriftResult:
    """Drift of every declared column between two files, one column in memory at a time; each
    compared column's plot data (`mlcode.drift.plotdata`) goes into `plots` when given."""
    kinds: dict[str, Kind] = dict.fromkeys(numeric, "numeric")
    for name in categorical:
        if name in kinds:
            raise UserError(f"column {name!r} is declared both numeric and categorical")
        kinds[name] = "categorical"
    unknown = sorted(set(per_column) - set(kinds))
    if unknown:
        raise UserError(
            f"drift settings name columns that are not declared features: {', '.join(unknown)}",
            hint=f"Declared features: {', '.join(kinds) or 'none'}.",
        )
    with open_columns(reference, kinds) as ref, open_columns(current, kinds) as cur:
        for side, reader in ((reference, ref), (current, cur)):
            if reader.num_rows == 0:
                raise UserError(
                    f"{side.name}: the dataset has no rows; drift needs data on both sides"
                )

        def loader(name: str, kind: Kind) -> Callable[[], Sample]:
            if kind == "numeric":
                return lambda: _plotted(name, NumericSample(ref.numeric(name), cur.numeric(name)))
            return lambda: _plotted(
                name, CategoricalSample.from_counts(ref.categorical(name), cur.categorical(name))
            )

        def _plotted(name: str, sample: Sample) -> Sample:
            if plots is not None:
                if isinstance(sample, NumericSample):  # in place, no copy; order-free statistics
                    sample.reference.sort()
                    sample.current.sort()
                plots[name] = plot_data(sample)
            return sample

        columns = [(name, kind, loader(name, kind)) for name, kind in kinds.items()]
        return detect_drift(columns, dataset, per_column, max_drifted_share)


def _check_columns(file: DataFile, present: Sequence[str], kinds: Mapping[str, Kind]) -> None:
    missing = [name for name in kinds if name not in present]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise UserError(
            f"{file.name}: declared {noun} {', '.join(repr(m) for m in missing)} not in the file",
            hint=f"Columns in the file: {', '.join(present) or 'none'}.",
        )


def _csv_header(file: DataFile) -> list[str]:
    try:
        with file.path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{file.name}: cannot read the CSV header: {exc}") from None


def _csv_to_parquet(file: DataFile, kinds: Mapping[str, Kind], target: Path) -> None:
    """Stream the declared columns of a CSV file into a Parquet file, typed as declared."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    header = _csv_header(file)
    _check_columns(file, header, kinds)
    types = {n: pa.float64() if k == "numeric" else pa.string() for n, k in kinds.items()}
    convert = pacsv.ConvertOptions(
        include_columns=list(kinds), column_types=types, strings_can_be_null=True
    )
    schema = pa.schema([(name, types[name]) for name in kinds])
    try:
        reader = pacsv.open_csv(
            file.path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
            convert_options=convert,
        )
        with pq.ParquetWriter(target, schema, compression="none") as writer:
            for batch in reader:
                writer.write_batch(batch)
    except pa.ArrowInvalid as exc:
        raise UserError(_csv_error(file, header, kinds, str(exc))) from None


def _csv_error(file: DataFile, header: Sequence[str], kinds: Mapping[str, Kind], text: str) -> str:
    match = _CSV_COLUMN.search(text)
    if match and int(match.group(1)) < len(header):
        name = header[int(match.group(1))]
        if kinds.get(name) == "numeric" and "conversion error" in text:
            bad = text.split("invalid value", 1)[-1].strip()
            return f"{file.name}: column {name!r} is declared numeric but holds the value {bad}"
        return f"{file.name}: column {name!r}: {text}"
    return f"{file.name}: cannot read the CSV file: {text}"
