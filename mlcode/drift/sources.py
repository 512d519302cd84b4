"""Two data files given on the command line: their format, their columns and each column's kind.

`mlcode drift --reference A --current B` needs no ml.yaml, so the columns to compare and their kinds
come from the files themselves, the way Evidently infers them from pandas dtypes: a column of a
numeric type (integers, floats, decimals) is numeric, any other (text, booleans, dates) is
categorical. Parquet
files carry their types; a CSV file's types are inferred by pyarrow over the whole file, streamed
block by block (a column that looks numeric in the first block but holds text later is text, as
pandas would read it). A column with no value at all (Arrow's null type) takes the other side's
kind. The id and time columns, when named, are never compared.

The format comes from the name (`.parquet`/`.pq`, `.csv`; a Parquet file of another name too) and is checked
against the content: a Parquet file starts and ends with `PAR1`, a CSV file is UTF-8 text with a
header. Bad input is a `UserError` naming the file, and the column when there is one: a file that is
neither CSV nor Parquet, an empty file, different column sets, a column numeric on one side and text
on the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcode.drift.detect import Kind
from mlcode.drift.files import DataFile
from mlcode.errors import UserError

_PARQUET_MAGIC = b"PAR1"
_CSV_SNIFF = 64 << 10  # bytes of a CSV file checked for text before parsing
_CSV_BLOCK = 16 << 20
_CSV_COLUMN = re.compile(r"In CSV column #(\d+)")
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)

Schema = dict[str, str]  # column → Arrow type name ("double", "string", "null", ...)


@dataclass(frozen=True)
class Columns:
    """The columns to compare between two files and each one's kind."""

    kinds: dict[str, Kind]

    @property
    def numeric(self) -> list[str]:
        """Numeric columns, in file order."""
        return [n for n, k in self.kinds.items() if k == "numeric"]

    @property
    def categorical(self) -> list[str]:
        """Categorical columns, in file order."""
        return [n for n, k in self.kinds.items() if k == "categorical"]


def data_file(path: Path, display: str | None = None) -> DataFile:
    """The file at `path` with its format, checked by name and content; a UserError otherwise."""
    name = display or str(path)
    if not path.exists():
        raise UserError(f"{name}: file not found")
    if not path.is_file():
        raise UserError(f"{name}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{name}: the file is empty; drift needs a header and rows on both sides")
    with path.open("rb") as handle:
        head = handle.read(_CSV_SNIFF)
        handle.seek(max(0, size - len(_PARQUET_MAGIC)))
        tail = handle.read()
    suffix = path.suffix.lower()
    is_parquet = head.startswith(_PARQUET_MAGIC) and tail == _PARQUET_MAGIC
    if suffix in PARQUET_SUFFIXES or (suffix not in CSV_SUFFIXES and is_parquet):
        if not is_parquet:
            raise UserError(
                f"{name}: not a Parquet file (it does not start and end with PAR1)",
                hint="Give a Parquet or CSV file; the format follows the file name's suffix.",
            )
        return DataFile(path, name, "parquet")
    if suffix not in CSV_SUFFIXES:
        raise UserError(
            f"{name}: not a CSV or Parquet file",
            hint="mlcode drift reads .csv and .parquet (or .pq) files.",
        )
    if b"\x00" in head:
        raise UserError(f"{name}: not a CSV file (it holds binary data)")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a cut multi-byte character at the end is fine
            raise UserError(f"{name}: not a CSV file (not UTF-8 text: {exc.reason})") from None
    return DataFile(path, name, "csv")


def schema(file: DataFile) -> Schema:
    """Each column of `file` and its Arrow type (a CSV file's inferred over the whole file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if file.format == "parquet":
        try:
            arrow = pq.read_schema(file.path)
        except (pa.ArrowException, OSError) as exc:
            raise UserError(f"{file.name}: not a readable Parquet file: {exc}") from None
        return {f.name: _type_name(f.type) for f in arrow}
    return _csv_schema(file)


def choose_columns(
    reference: tuple[DataFile, Schema],
    current: tuple[DataFile, Schema],
    columns: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Columns:
    """The columns to compare (all shared ones, or `columns`) and their kinds, checked on both
    sides: the same column set, the same kind; `exclude` (id and time columns) left out."""
    (ref_file, ref), (cur_file, cur) = reference, current
    for name in exclude:
        for file, types in ((ref_file, ref), (cur_file, cur)):
            if name not in types:
                raise UserError(
                    f"{file.name}: column {name!r} (named as the id or time column) is not in it",
                    hint=f"Columns in the file: {', '.join(types) or 'none'}.",
                )
    if columns:
        wanted = list(dict.fromkeys(columns))
        for file, types in ((ref_file, ref), (cur_file, cur)):
            missing = [c for c in wanted if c not in types]
            if missing:
                raise UserError(
                    f"{file.name}: column {_names(missing)} not in the file",
                    hint=f"Columns in the file: {', '.join(types) or 'none'}.",
                )
        left_out = [c for c in wanted if c in exclude]
        if left_out:
            raise UserError(
                f"column {_names(left_out)} is named both in --columns and as the id or time column"
            )
    else:
        only_ref = [c for c in ref if c not in cur]
        only_cur = [c for c in cur if c not in ref]
        if only_ref or only_cur:
            parts = []
            if only_ref:
                parts.append(f"{_names(only_ref)} only in {ref_file.name}")
            if only_cur:
                parts.append(f"{_names(only_cur)} only in {cur_file.name}")
            raise UserError(
                f"the reference and current files have different columns: {'; '.join(parts)}",
                hint="Compare the shared columns with --columns, or fix the files.",
            )
        wanted = [c for c in ref if c not in exclude]
    if not wanted:
        raise UserError(f"{ref_file.name}: no column left to compare")
    kinds: dict[str, Kind] = {}
    for name in wanted:
        kinds[name] = _kind(name, (ref_file, ref[name]), (cur_file, cur[name]))
    return Columns(kinds)


def _kind(name: str, ref: tuple[DataFile, str], cur: tuple[DataFile, str]) -> Kind:
    (ref_file, ref_type), (cur_file, cur_type) = ref, cur
    ref_kind, cur_kind = _kind_of(ref_type), _kind_of(cur_type)
    if ref_kind is not None and cur_kind is not None and ref_kind != cur_kind:
        raise UserError(
            f"column {name!r} is {ref_kind} ({ref_type}) in {ref_file.name} but {cur_kind} "
            f"({cur_type}) in {cur_file.name}",
            hint="Both files must hold the same kind of values in each compared column.",
        )
    return ref_kind or cur_kind or "numeric"


def _kind_of(type_name: str) -> Kind | None:
    """numeric for integer, float and decimal types; None for null; else (text, booleans, dates)
    categorical."""
    if type_name == "null":
        return None
    base = type_name.split("<", 1)[-1] if type_name.startswith("dictionary") else type_name
    numeric = ("int", "uint", "float", "double", "halffloat", "decimal")
    return "numeric" if base.startswith(numeric) else "categorical"


def _type_name(kind: Any) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return f"dictionary<{kind.value_type}>"
    return str(kind)


def _csv_schema(file: DataFile) -> Schema:
    """A CSV file's column types inferred over every block; text wins over an early numeric look."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = _header(file)
    forced: dict[str, Any] = {}
    while True:
        try:
            reader = pacsv.open_csv(
                file.path,
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
                convert_options=pacsv.ConvertOptions(column_types=forced, strings_can_be_null=True),
            )
            types = {f.name: f.type for f in reader.schema}
            for _ in reader:  # later blocks must convert to the first block's types
                pass
        except pa.ArrowInvalid as exc:
            text = str(exc)
            match = _CSV_COLUMN.search(text)
            if match and int(match.group(1)) < len(header) and "conversion error" in text:
                column = header[int(match.group(1))]
                if column not in forced:
                    forced[column] = pa.string()
                    continue
            raise UserError(f"{file.name}: cannot read the CSV file: {text}") from None
        names = list(types)
        if len(set(names)) != len(names):
            raise UserError(f"{file.name}: the CSV header names a column twice")
        return {n: _type_name(t) for n, t in types.items()}


def _header(file: DataFile) -> list[str]:
    import csv

    try:
        with file.path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{file.name}: cannot read the CSV header: {exc}") from None


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)
