"""Where a step's result lives, and how it is read back, shown and exported.

- A value (text, a number, a bool, a list, a dict) is JSON in the step's row.
- Several tables and a small value (`Tables(value, pages=..., links=...)`) are a Parquet file
  each (`<step>.<name>.parquet`) and the value as JSON; a table may be given as the path of a
  Parquet file the step wrote itself (streamed, so it need not fit in memory): it is moved in.
- A table (a pandas DataFrame, a pyarrow Table, or a list of dicts) is a Parquet file in the
  run's folder (`<data dir>/runs/<run key>/<step>.parquet`), written in row groups of
  ROW_GROUP rows, so a page of the preview reads one or two row groups however large the file
  is, and exports stream it batch by batch. The row keeps its row count and columns.

pyarrow and openpyxl load on first use, never at start-up.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

ROW_GROUP = 10_000
XLSX_ROW_LIMIT = 1_048_575  # Excel's sheet size, less the header row


class ResultError(ValueError):
    """A step returned something that cannot be stored; the message says what it may return."""


class Tables:
    """What a step returns for several tables at once, with a small JSON-able value beside them:

        return Tables({"pages": 120}, pages=dataframe, links=Path(folder, "links.parquet"))

    Each table is stored as its own Parquet file, previewed and downloadable (CSV, XLSX,
    Parquet) on its own. The next step receives a Tables whose tables are the stored files'
    paths (`tables["pages"]`); `tables.read("pages")` gives an Arrow table."""

    def __init__(self, value: object = None, **tables) -> None:
        self.value = value
        self.tables = tables

    def __getitem__(self, name: str):
        return self.tables[name]

    def read(self, name: str):
        import pyarrow.parquet as pq

        return pq.read_table(self.tables[name])

    def __repr__(self) -> str:
        return f"Tables({self.value!r}, {', '.join(self.tables)})"


@dataclass(frozen=True)
class Stored:
    kind: str  # "value" or "file"
    value: object  # the JSON value, or None for files
    info: dict  # for files: rows, columns, flavor, file (relative to the run's folder)
    digest: str


def table_flavor(value: object) -> str | None:
    """'pandas', 'arrow' or 'records' when `value` is a table, else None."""
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ == "DataFrame":
        return "pandas"
    if kind.__module__.startswith("pyarrow") and kind.__name__ == "Table":
        return "arrow"
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return "records"
    return None


def store_result(run_dir: Path, step: str, value: object) -> Stored:
    """Keep a step's result: JSON for values, a Parquet file for tables (written atomically)."""
    if isinstance(value, Tables):
        return _store_tables(run_dir, step, value)
    flavor = table_flavor(value)
    if flavor is not None:
        try:
            return _store_table(run_dir, step, value, flavor)
        except Exception as error:  # pyarrow could not make columns of it (mixed types, say)
            if flavor != "records":
                raise ResultError(f"the table could not be stored: {error}") from None
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ResultError(
            f"a step returns text, a number, a bool, a list, a dict or a table (DataFrame, Arrow table, "
            f"list of dicts), not {type(value).__name__} ({error})"
        ) from None
    return Stored("value", json.loads(text), {}, hashlib.sha256(text.encode()).hexdigest()[:16])


def _store_tables(run_dir: Path, step: str, value: Tables) -> Stored:
    if not value.tables or not all(isinstance(name, str) and name.isidentifier() for name in value.tables):
        raise ResultError("Tables(...) needs at least one table, each named like a Python identifier")
    plain = store_result(run_dir, step, value.value)
    if plain.kind != "value":
        raise ResultError("the value beside Tables(...) must be text, a number, a list or a dict, not a table")
    stored, digest = {}, hashlib.sha256(plain.digest.encode())
    for name, table in value.tables.items():
        if isinstance(table, (str, os.PathLike)):
            one = _adopt_parquet(run_dir, f"{step}.{name}", Path(table))
        else:
            flavor = table_flavor(table)
            if flavor is None:
                raise ResultError(f"the table {name!r} is a {type(table).__name__}; give a DataFrame, an Arrow table, a list of dicts or a Parquet file's path")
            one = _store_table(run_dir, f"{step}.{name}", table, flavor)
        stored[name] = one.info
        digest.update(one.digest.encode())
    return Stored("tables", plain.value, {"tables": stored}, digest.hexdigest()[:16])


def _adopt_parquet(run_dir: Path, stem: str, source: Path) -> Stored:
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(source).metadata
        names = pq.read_schema(source).names
    except Exception as error:
        raise ResultError(f"{source.name} is not a readable Parquet file: {error}") from None
    run_dir.mkdir(parents=True, exist_ok=True)
    name = f"{stem}.parquet"
    if source.resolve() != (run_dir / name).resolve():
        os.replace(source, run_dir / name)
    info = {"file": name, "rows": metadata.num_rows, "columns": names, "flavor": "arrow"}
    return Stored("file", None, info, _file_digest(run_dir / name))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def _store_table(run_dir: Path, step: str, value: object, flavor: str) -> Stored:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if flavor == "pandas":
        table = pa.Table.from_pandas(value, preserve_index=False)
    elif flavor == "records":
        table = pa.Table.from_pylist(value)
    else:
        table = value
    run_dir.mkdir(parents=True, exist_ok=True)
    name = f"{step}.parquet"
    temporary = run_dir / f".{name}.{os.getpid()}.tmp"
    pq.write_table(table, temporary, row_group_size=ROW_GROUP, compression="zstd")
    os.replace(temporary, run_dir / name)  # a kill mid-write leaves the old file or none, never half
    info = {"file": name, "rows": table.num_rows, "columns": table.column_names, "flavor": flavor}
    return Stored("file", None, info, _file_digest(run_dir / name))


def load_result(run_dir: Path, kind: str, value: object, info: dict) -> object:
    """A stored result as the next step receives it: tables in the flavor they were returned in."""
    if kind == "tables":
        return Tables(value, **{name: run_dir / one["file"] for name, one in info.get("tables", {}).items()})
    if kind != "file":
        return value
    import pyarrow.parquet as pq

    table = pq.read_table(run_dir / info["file"])
    flavor = info.get("flavor", "arrow")
    if flavor == "pandas":
        return table.to_pandas()
    if flavor == "records":
        return table.to_pylist()
    return table


@dataclass(frozen=True)
class Page:
    columns: list[str]
    rows: list[list]
    number: int  # 1-based
    size: int
    total_rows: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total_rows / self.size))


def preview(path: Path, page: int = 1, size: int = 50) -> Page:
    """One page of a table file, reading only the row groups it spans."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    total = parquet.metadata.num_rows
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    start, end = (page - 1) * size, min(page * size, total)
    rows: list[list] = []
    first_row = 0
    for group in range(parquet.num_row_groups):
        count = parquet.metadata.row_group(group).num_rows
        if first_row + count > start and first_row < end:
            piece = parquet.read_row_group(group).slice(max(0, start - first_row), end - max(start, first_row))
            rows += [list(row.values()) for row in piece.to_pylist()]
        first_row += count
        if first_row >= end:
            break
    return Page(parquet.schema_arrow.names, rows, page, size, total)


def csv_chunks(path: Path, batch_rows: int = 5_000):
    """The table as CSV (UTF-8 with a BOM, so spreadsheet programs read accents right), in pieces."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(parquet.schema_arrow.names)
    yield ("\ufeff" + buffer.getvalue()).encode()
    for batch in parquet.iter_batches(batch_size=batch_rows):
        buffer.seek(0)
        buffer.truncate()
        columns = batch.to_pydict().values()
        writer.writerows([csv_safe(value) for value in row] for row in zip(*columns, strict=True))
        yield buffer.getvalue().encode()


def write_xlsx(path: Path, destination: Path, sheet_title: str = "Result") -> Path:
    """The table as an .xlsx file (openpyxl's streaming writer): a bold header row, frozen, and
    column widths fitted to what the first rows hold."""
    import pyarrow.parquet as pq
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    parquet = pq.ParquetFile(path)
    if parquet.metadata.num_rows > XLSX_ROW_LIMIT:
        raise ResultError(f"the table has {parquet.metadata.num_rows:,} rows; an Excel sheet holds {XLSX_ROW_LIMIT:,}. Download the CSV instead.")
    names = parquet.schema_arrow.names
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "Result")
    widths = [len(str(name)) for name in names]
    batches = parquet.iter_batches(batch_size=5_000)
    first = next(batches, None)
    if first is not None:
        for row in list(zip(*first.to_pydict().values(), strict=True))[:200]:
            widths = [max(width, len(str(cell))) for width, cell in zip(widths, row, strict=True)]
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for batch in [first] if first is not None else []:
        _append_rows(sheet, batch)
    for batch in batches:
        _append_rows(sheet, batch)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    workbook.save(temporary)
    os.replace(temporary, destination)
    return destination


def _append_rows(sheet, batch) -> None:
    from openpyxl.cell import WriteOnlyCell

    for row in zip(*batch.to_pydict().values(), strict=True):
        cells = []
        for value in row:
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text from data is never a formula
                cells.append(cell)
            elif value is None or isinstance(value, (str, int, float, bool)):
                cells.append(value)
            else:
                cells.append(str(value))  # dates, lists: shown as text
        sheet.append(cells)


def csv_safe(value):
    """A cell for CSV: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, str) and value[:1] == "-" and value[1:2] and not (value[1].isdigit() or value[1] in " ."):
        return "'" + value
    return value
