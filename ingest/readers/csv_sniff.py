"""Look at the start of a text extract: its encoding, delimiter and header row, without reading the whole file."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 64 * 1024  # enough for a header row and a few title rows
MAX_HEADER_SEARCH = 10  # title rows tolerated above the header row
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")


@dataclass(frozen=True)
class TextHead:
    """The first lines of a text file, decoded."""

    encoding: str  # 'utf-8' | 'latin-1' | 'utf-16' (DuckDB read_csv encodings)
    lines: list[str]  # first physical lines (the last one may be cut short)


@dataclass(frozen=True)
class HeaderRow:
    """A header row found near the top of a CSV."""

    line_index: int  # 0-based physical line of the header row
    delimiter: str
    headings: list[str]  # as written in the file


def looks_binary(data: bytes) -> bool:
    """True when bytes are not text: NUL bytes (outside UTF-16) or many control characters."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in data:
        return True
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(2, len(data) // 100)


def decode_head(data: bytes) -> TextHead:
    """Decode the first bytes of a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        encoding = "utf-16"
    else:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            text = decoder.decode(data, final=False)  # a character cut at the end of the head is not an error
            encoding = "utf-8"
        except UnicodeDecodeError:
            text = data.decode("latin-1").lstrip("\ufeff")
            encoding = "latin-1"
    return TextHead(encoding=encoding, lines=text.splitlines())


def read_head(path: Path, size: int = HEAD_BYTES) -> TextHead:
    """The decoded first lines of a text file."""
    with open(path, "rb") as handle:
        return decode_head(handle.read(size))


def split_line(line: str) -> tuple[str, list[str]]:
    """Split one CSV line with the delimiter that gives the most fields (comma on a tie)."""
    best = (",", [line])
    for delimiter in DELIMITERS:
        fields = next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
        if len(fields) > len(best[1]):
            best = (delimiter, fields)
    return best


def header_rows(head: TextHead, limit: int = MAX_HEADER_SEARCH) -> Iterator[HeaderRow]:
    """Candidate header rows: the first non-blank lines, split into headings."""
    seen = 0
    for index, line in enumerate(head.lines):
        if not line.strip().strip(",;|\t").strip():
            continue
        delimiter, fields = split_line(line)
        yield HeaderRow(index, delimiter, [f.strip() for f in fields])
        seen += 1
        if seen >= limit:
            return


def find_header(head: TextHead, accepts: Callable[[list[str]], bool]) -> HeaderRow | None:
    """The first candidate header row whose headings `accepts` approves, else None."""
    return next((row for row in header_rows(head) if accepts(row.headings)), None)


TAIL_BYTES = 64 * 1024


def truncation(path: Path, header: HeaderRow, encoding: str) -> str | None:
    """Why the file looks cut short, or None: its last line has fewer fields than the header and no line break.

    A CSV that stops mid-row (a copy or download cut off) ends without a line break in the middle
    of a record; a complete file's last record has all its fields or ends with a line break.
    """
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - TAIL_BYTES))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    last = tail.decode("utf-16" if encoding == "utf-16" else "utf-8", errors="replace").splitlines()[-1]
    fields = next(csv.reader([last], delimiter=header.delimiter, quotechar='"'), [])
    if len(fields) >= len(header.headings) or last.count('"') % 2:  # an open quote: a line break inside a value
        return None
    return (
        f"looks cut short: its last line has {len(fields)} of {len(header.headings)} fields and no line"
        " break after it (was the file copied or downloaded completely?)"
    )


_DATA_LIKE = re.compile(r"\d{3,}|@")


def heading_summary(headings: list[str], limit: int = 10) -> str:
    """Headings quoted for an error message; anything that looks like data (3+ digits, '@') is masked."""
    shown = []
    for text in headings[:limit]:
        text = " ".join(str(text).split())
        shown.append("'…'" if _DATA_LIKE.search(text) else repr(text[:40]))
    more = f" and {len(headings) - limit} more" if len(headings) > limit else ""
    return (", ".join(shown) or "none") + more
