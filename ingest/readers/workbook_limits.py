"""Limits a workbook must keep before a spreadsheet library reads it: size unpacked, rows, columns and cells.

python-calamine builds each sheet as a dense grid from its first to its last filled cell, so one
filled cell at XFD1048576 asks for hundreds of gigabytes (and aborts the process), and a small zip
can unpack to gigabytes. An .xlsx/.xlsm/.xlsb/.ods is a zip: its parts are unpacked here as a
stream, counting bytes (the sizes its directory declares may lie), and each worksheet's filled
extent is read from its XML, all before the library allocates anything. A workbook over a limit
is refused in one line; the other files of the command still load.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ingest.readers.base import ExtractError

MAX_UNPACKED_MB_ENV = "FRONTDOOR_MAX_WORKBOOK_MB"
MAX_UNPACKED_BYTES = 1024 * 1024**2  # all parts of a workbook unpacked: 1 GiB (about 4 million filled cells)
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_COLUMNS = 1000  # Annex A lists have tens
MAX_CELLS = 30_000_000  # rows x columns of a sheet's filled area: about 1 GB in the reader
MAX_PARTS = 10_000
_CHUNK = 1 << 20

_ROW = re.compile(rb'<row [^>]*?r="([0-9]+)"[^>]*(?<!/)>')  # a row with cells (an empty formatted row has none)
_WIDE_FILLED_CELL = re.compile(rb'<c r="([A-Z]{2,3})[0-9]+"[^>]*?(?<!/)>')  # a filled cell in column AA or beyond
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")


@dataclass
class _Extent:
    rows: int = 0
    columns: int = 0


def column_number(letters: str) -> int:
    """'A' -> 1, 'Z' -> 26, 'AA' -> 27, 'XFD' -> 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def max_unpacked_bytes() -> int:
    setting = os.environ.get(MAX_UNPACKED_MB_ENV, "").strip()
    try:
        return int(float(setting) * 1024**2) if setting and float(setting) > 0 else MAX_UNPACKED_BYTES
    except ValueError:
        return MAX_UNPACKED_BYTES


def _too_big(path: Path, limit: int) -> ExtractError:
    return ExtractError(
        path,
        f"workbook unpacks to more than {limit // 1024**2} MB (a zip bomb, or far too big to"
        f" be an extract; {MAX_UNPACKED_MB_ENV} sets the limit)",
    )


def _scan_part(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, path: Path, limit: int, extent: _Extent | None
) -> int:
    """Unpack one part as a stream; the bytes left in the budget. For a worksheet, widen `extent` by its filled cells."""
    tail = b""
    with archive.open(info) as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            budget -= len(chunk)
            if budget < 0:
                raise _too_big(path, limit)
            if extent is not None:
                data = tail + chunk
                rows = _ROW.findall(data)
                if rows:
                    extent.rows = max(extent.rows, max(map(int, rows)))
                for letters in _WIDE_FILLED_CELL.findall(data):
                    extent.columns = max(extent.columns, column_number(letters.decode()))
                tail = data[-200:]
    return budget


def _check_extent(path: Path, sheet: str, extent: _Extent) -> None:
    columns = max(extent.columns, 26)
    if extent.rows > MAX_ROWS or extent.columns > MAX_COLUMNS or extent.rows * columns > MAX_CELLS:
        where = f"row {extent.rows:,}" + (f", column {column_letters(extent.columns)}" if extent.columns > 26 else "")
        raise ExtractError(
            path,
            f"sheet part {sheet} has cells as far as {where}, over the limit of"
            f" {MAX_CELLS:,} cells ({MAX_COLUMNS} columns): delete the rows and columns"
            " beyond the data, save and load again",
        )


def check_workbook_limits(path: Path) -> None:
    """Refuse (ExtractError) a zip workbook that unpacks too big or whose sheets reach too far, before it is read."""
    limit = max_unpacked_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise ExtractError(path, f"workbook has {len(parts):,} parts, over the limit of {MAX_PARTS:,}")
            if sum(p.file_size for p in parts) > limit:
                raise _too_big(path, limit)
            budget = limit
            for part in parts:
                extent = _Extent() if _SHEET_PART.match(part.filename) else None
                budget = _scan_part(archive, part, budget, path, limit, extent)
                if extent is not None:
                    _check_extent(path, part.filename.rsplit("/", 1)[-1], extent)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise ExtractError(path, "unreadable or truncated workbook") from err
