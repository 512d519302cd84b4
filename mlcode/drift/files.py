"""Reading two datasets one column at a time and comparing them: the I/O edge of drift detection.

Memory stays bounded by about one column of both datasets at a time (plus one CSV block), and
beyond `EXACT_LIMIT` values in a column pair by the row group size: such numeric columns are
streamed row group by row group into summaries with a quantile sketch (`mlcode.drift.sketch`; the
Wasserstein and KS estimates carry a stated error bound), their frequency counts from a second
streamed pass (exact).

- Parquet files are read column by column, row group by row group (`read_row_group`), into one
  array per column side.
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
    SketchedSample,
    detect_drift,
)
from mlcode.drift.plotdata import PlotData, numeric_plot, plot_data
from mlcode.drift.sketch import ColumnSummary
from mlcode.drift.stattests import BIN_ABOVE_UNIQUE, CountArray, FloatArray, sturges_edges
from mlcode.errors import UserError

EXACT_LIMIT = (
    40_000_000  # values of one column pair (both sides) held and sorted whole; beyond: sketch
)
Progress = Callable[[int, int, str], None]  # (columns done, columns in all, column now)
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
        """Column `name` as float64 with missing values (NaN, null, ±inf) dropped, sorted.

        Read batch by batch into one array sized for the whole column: Arrow holds one batch at a
        time (its allocator keeps what it once held, so a whole-column read would stay resident)."""
        values: FloatArray = np.empty(self.num_rows, dtype=np.float64)
        filled = 0
        for part in self.numeric_batches(name):
            values[filled : filled + part.size] = part
            filled += part.size
        values = values[:filled]
        values.sort()  # in place
        return values

    def numeric_batches(self, name: str) -> Iterator[FloatArray]:
        """Column `name` one row group at a time, as `numeric` (unsorted)."""
        for column in self._row_groups(name):
            for chunk in column.chunks:
                yield self._floats(name, chunk)

    def _row_groups(self, name: str) -> Iterator[Any]:
        """Column `name` of each row group in turn (a ChunkedArray). Row group by row group, not
        `iter_batches`: that keeps the whole column allocated in Arrow's pool after the loop."""
        for index in range(self._parquet.num_row_groups):
            yield self._parquet.read_row_group(index, columns=[name]).column(0)

    def summary(self, name: str) -> ColumnSummary:
        """Column `name` summarized while streamed (size, moments, range, quantile sketch)."""
        out = ColumnSummary()
        for values in self.numeric_batches(name):
            out.update(values)
        return out

    def _floats(self, name: str, array: Any) -> FloatArray:
        """One Arrow array as float64 values, missing values (NaN, null, ±inf) dropped."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = array.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
            array = pc.cast(array, kind)
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
        present = pc.drop_null(pc.cast(array, pa.float64()))
        if not len(present):
            return np.empty(0, dtype=np.float64)
        # Read the value buffer directly: pyarrow's to_numpy imports pandas (a second of start-up).
        values = np.frombuffer(present.buffers()[1], dtype=np.float64)[
            present.offset : present.offset + len(present)
        ]
        finite: FloatArray = values[np.isfinite(values)]
        return finite

    def categorical(self, name: str) -> dict[str, int]:
        """Counts of each value of column `name`, as text; missing values are not counted.
        Counted batch by batch in Arrow, the per-batch counts summed in Arrow too."""
        import pyarrow as pa
        import pyarrow.compute as pc

        parts = []
        for column in self._row_groups(name):
            try:
                text = pc.cast(column, pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise UserError(
                    f"{self._file.name}: column {name!r} ({column.type}) cannot be read as "
                    f"categories: {exc}"
                ) from None
            counted = pc.value_counts(pc.drop_null(text).combine_chunks())
            parts.append(counted.flatten())
        if not parts:
            return {}
        table = (
            pa.Table.from_arrays(
                [pa.concat_arrays([p[0] for p in parts]), pa.concat_arrays([p[1] for p in parts])],
                names=["value", "count"],
            )
            .group_by("value")
            .aggregate([("count", "sum")])
        )
        values = table.column("value").to_pylist()
        numbers = table.column("count_sum").to_pylist()
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
    *,
    progress: Progress | None = None,
    exact_limit: int = EXACT_LIMIT,
) -> DriftResult:
    """Drift of every declared column between two files, one column in memory at a time; each
    compared column's plot data (`mlcode.drift.plotdata`) goes into `plots` when given;
    `progress(done, total, column)` is called before each column and once at the end."""
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

        sketched = ref.num_rows + cur.num_rows > exact_limit

        def loader(name: str, kind: Kind) -> Callable[[], Sample]:
            if kind == "numeric" and sketched:
                return lambda: _plotted(name, _sketched(ref, cur, name))
            if kind == "numeric":
                return lambda: _plotted(name, NumericSample(ref.numeric(name), cur.numeric(name)))
            return lambda: _plotted(
                name, CategoricalSample.from_counts(ref.categorical(name), cur.categorical(name))
            )

        def _plotted(name: str, sample: Sample) -> Sample:
            if plots is not None:
                plots[name] = (
                    sketch_plot(sample) if isinstance(sample, SketchedSample) else plot_data(sample)
                )
            return sample

        total = len(kinds)

        def counted(index: int, name: str, load: Callable[[], Sample]) -> Callable[[], Sample]:
            def run() -> Sample:
                if progress is not None:
                    progress(index, total, name)
                return load()

            return run

        columns = [
            (name, kind, counted(i, name, loader(name, kind)))
            for i, (name, kind) in enumerate(kinds.items())
        ]
        result = detect_drift(columns, dataset, per_column, max_drifted_share)
        if progress is not None:
            progress(total, total, "")
        return result


def _sketched(ref: ColumnReader, cur: ColumnReader, name: str) -> SketchedSample:
    """A column pair too large to sort whole: both sides summarized while streamed; frequency
    counts, when a test needs them, from a second streamed pass (exact)."""
    ref_summary, cur_summary = ref.summary(name), cur.summary(name)

    def counts() -> tuple[CountArray, CountArray]:
        ref_keys, cur_keys = ref_summary.distinct, cur_summary.distinct
        if ref_keys is not None and len(ref_keys) <= BIN_ABOVE_UNIQUE:
            if cur_keys is None:
                cur_keys = _value_counts(cur.numeric_batches(name))
            keys = sorted(set(ref_keys) | set(cur_keys))
            return (
                np.array([ref_keys.get(k, 0) for k in keys], dtype=np.int64),
                np.array([cur_keys.get(k, 0) for k in keys], dtype=np.int64),
            )
        low = min(ref_summary.low, cur_summary.low)
        high = max(ref_summary.high, cur_summary.high)
        edges = sturges_edges(low, high, ref_summary.n + cur_summary.n)
        return _histogram(ref.numeric_batches(name), edges), _histogram(
            cur.numeric_batches(name), edges
        )

    return SketchedSample(ref_summary, cur_summary, counts)


def sketch_plot(sample: SketchedSample, points: int = 10_000) -> PlotData:
    """A sketched column's plot data: `numeric_plot` on `points` evenly spaced quantiles of each
    side read from its sketch (the range's ends exact), counts scaled back to the side's size;
    marked `estimated` (each count is within the sketch's rank error of the true one)."""
    sides = []
    for summary in (sample.reference, sample.current):
        items, weights = summary.sketch.weighted()
        cumulative = np.cumsum(weights)
        wanted = (np.arange(points) + 0.5) / points * cumulative[-1]
        pseudo = items[np.minimum(cumulative.searchsorted(wanted), items.size - 1)]
        pseudo[0], pseudo[-1] = summary.low, summary.high
        sides.append(np.sort(pseudo))
    plot = numeric_plot(sides[0], sides[1])
    for name, summary in (("reference", sample.reference), ("current", sample.current)):
        scale = summary.n / points
        counts = plot[name]
        assert isinstance(counts, list)
        plot[name] = [round(c * scale) for c in counts]
    outside = plot.get("outside")
    if isinstance(outside, dict):
        for name, summary in (("reference", sample.reference), ("current", sample.current)):
            ends = outside.get(name)
            if isinstance(ends, dict):
                outside[name] = {k: round(v * summary.n / points) for k, v in ends.items()}
    plot["estimated"] = True
    return plot


def _value_counts(batches: Iterator[FloatArray]) -> dict[float, int]:
    out: dict[float, int] = {}
    for values in batches:
        keys, counts = np.unique(values, return_counts=True)
        for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
            out[key] = out.get(key, 0) + count
    return out


def _histogram(batches: Iterator[FloatArray], edges: FloatArray) -> CountArray:
    total = np.zeros(edges.size - 1, dtype=np.int64)
    for values in batches:
        total += np.histogram(values, edges)[0]
    return total


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
