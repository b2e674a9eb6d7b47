"""Every row of a CSV accounted for: records numbered by their place in the file, and lines reconciled with rows.

DuckDB's CSV reader is fast but, in parallel, may return records out of file order, and a quote
that is never closed makes it swallow the rest of the file into one rejected record. So a reader
first materialises the file's records in a TEMP table with insertion order preserved (its rowid
is then the record's ordinal, fixed while reading), numbers them from it (``number_records``),
and finally checks that the physical lines below the header are all accounted for
(``check_all_lines_accounted``): each is a row read (loaded or rejected), an empty line, or a
line break inside a quoted value. A file that does not reconcile is refused in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.readers.base import ExtractError

_CHUNK = 1 << 22
_EMPTY_LINE = re.compile(rb"\n(?=\r?\n)")


@dataclass(frozen=True)
class LineCount:
    """Physical lines of a text file below its header row."""

    lines: int  # lines after the header line (a last line without a line break counts)
    empty: int  # of those, lines with nothing on them (DuckDB skips them)


def count_lines(path: Path, header_line_index: int) -> LineCount:
    """Lines after the header line (0-based `header_line_index`) of a UTF-8 file, and how many are empty.

    Line breaks are '\\n' or '\\r\\n'. Counted in chunks of bytes, never a line at a time.
    """
    total = empty = 0
    last = b"\n"
    carry = b""
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            total += chunk.count(b"\n")
            last = chunk[-1:]
            data = carry + chunk
            visible = len(data) - 2  # a match needs the two bytes after it: later ones are counted next time
            empty += sum(1 for m in _EMPTY_LINE.finditer(data) if m.start() < visible)
            carry = data[-2:]
    empty += len(_EMPTY_LINE.findall(carry))
    lines = total + (0 if last == b"\n" else 1)
    return _below_header(path, header_line_index, lines, empty)


def _below_header(path: Path, header_line_index: int, lines: int, empty: int) -> LineCount:
    """Remove the header line and the lines above it (and the empty ones among them) from the counts."""
    above = 0
    with open(path, "rb") as handle:
        for index, line in enumerate(handle):
            if index > header_line_index:
                break
            if index > 0 and not line.strip(b"\r\n"):
                above += 1
    lines_below = lines - (header_line_index + 1)
    # an empty line right after the header is seen by the pattern as '\n' (header's end) + '\n'
    return LineCount(lines=max(lines_below, 0), empty=max(empty - above, 0))


def number_records(con: duckdb.DuckDBPyConnection, table: str, errors: str, first_data_line: int, view: str) -> None:
    """TEMP view `view`: the records of `table` (file order, so rowid is the ordinal) with their line numbers.

    Each line the CSV parser rejected (in `errors`, by line) before a record moves it one line down.
    Inside a transaction a new table's rowids start at an offset, hence the minimum.
    """
    base = f"(SELECT coalesce(min(rowid), 0) FROM {table})"
    if not con.execute(f"SELECT count(*) FROM {errors}").fetchall()[0][0]:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS"
            f" SELECT CAST({first_data_line} + rowid - {base} AS INTEGER) AS row_number, * FROM {table}"
        )
        return
    shifts = f"{view}_shifts"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {shifts} AS SELECT d, max(n) AS n FROM ("
        f" SELECT line - {first_data_line} - (row_number() OVER (ORDER BY line) - 1) AS d,"
        " row_number() OVER (ORDER BY line) AS n"
        f" FROM (SELECT DISTINCT line FROM {errors})) GROUP BY d"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS"
        f" SELECT CAST({first_data_line} + t._ordinal + coalesce(s.n, 0) AS INTEGER) AS row_number, t.* EXCLUDE (_ordinal)"
        f" FROM (SELECT rowid - {base} AS _ordinal, * FROM {table}) t ASOF LEFT JOIN {shifts} s ON t._ordinal >= s.d"
    )


def _line_breaks_in_values(con: duckdb.DuckDBPyConnection, table: str, width: int) -> int:
    if width == 0:
        return 0
    parts = " + ".join(f"coalesce(len(regexp_extract_all(c{i}, '\\r\\n|\\r|\\n')), 0)" for i in range(width))
    return int(con.execute(f"SELECT coalesce(sum({parts}), 0) FROM {table}").fetchall()[0][0])


def _first_unsplit_line(con: duckdb.DuckDBPyConnection, errors: str) -> int | None:
    row = con.execute(
        f"SELECT min(line) FROM {errors} WHERE csv_line LIKE '%' || chr(10) || '%'"
        f" OR error_type IN ('UNQUOTED VALUE', 'INVALID UNICODE')"
    ).fetchall()
    return row[0][0] if row and row[0][0] is not None else None


def check_all_lines_accounted(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    shown_as: Path,
    header_line_index: int,
    rows_read: int,
    table: str,
    errors: str,
    width: int,
) -> None:
    """Refuse the file (ExtractError) unless every line below its header is a row read, empty, or inside a value.

    `rows_read` counts the records kept as rows or rejects, plus blank rows the reader skipped;
    `table` holds the records read (columns c0..c<width-1>) and `errors` the lines the parser rejected.
    """
    count = count_lines(path, header_line_index)
    accounted = rows_read + count.empty
    if accounted == count.lines:
        return
    if accounted < count.lines:
        accounted += _line_breaks_in_values(con, table, width)
        if accounted == count.lines:
            return
    where = _first_unsplit_line(con, errors)
    hint = (
        f'; from line {where} the file cannot be split into rows (a quote " that is not closed?)'
        if where is not None
        else ""
    )
    raise ExtractError(
        shown_as,
        f"only {accounted} of the {count.lines} lines below the header could be"
        f" accounted for as rows{hint}; nothing was loaded from this file",
    )
