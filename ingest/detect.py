"""Which kind of extract a file is, judged from its content (not its name), and the dispatcher that reads it.

Rules, in order: a missing, unreadable, empty or oversized file is refused; zip content is an
Excel workbook (Annex A) if it holds one; OLE content is a legacy .xls (Annex A); content that
starts with '<' (after any byte-order mark and whitespace) is XML and must be a CIN census
``Message``; other text is a CSV whose header row must be the case-recording extract's or an
Annex A list's; anything else is not a recognised extract. Every refusal is an ExtractError: one
line naming the file.
"""

from __future__ import annotations

import codecs
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import duckdb

from ingest.normalise import heading_key
from ingest.readers.base import ExtractError, ReadResult
from ingest.readers.csv_sniff import HEAD_BYTES, decode_head, header_rows, heading_summary, looks_binary

MAX_FILE_BYTES = 2 * 1024**3  # 2 GiB; FRONTDOOR_MAX_FILE_MB overrides it
MAX_FILE_ENV = "FRONTDOOR_MAX_FILE_MB"
FORMATS: tuple[str, ...] = ("annex_a", "cin_census", "case_recording")

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
GZIP_MAGIC = b"\x1f\x8b"
WORKBOOK_MEMBERS: tuple[str, ...] = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")  # xlsx/xlsm, xlsb, ods


def max_file_bytes() -> int:
    """The size limit: FRONTDOOR_MAX_FILE_MB (megabytes, may be fractional) if set, else MAX_FILE_BYTES."""
    setting = os.environ.get(MAX_FILE_ENV, "").strip()
    if not setting:
        return MAX_FILE_BYTES
    try:
        megabytes = float(setting)
    except ValueError:
        megabytes = -1.0
    if megabytes <= 0:
        raise ValueError(f"{MAX_FILE_ENV} must be a positive number of megabytes, not {setting[:20]!r}")
    return int(megabytes * 1024 * 1024)


def human_size(size: int) -> str:
    """A byte count for people: '512 bytes', '3.2 KB', '4.0 MB', '2.0 GB' (binary multiples)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def check_file(path: Path) -> int:
    """The size of a file that can be read; ExtractError when missing, unreadable, empty or too large."""
    if not path.exists():
        raise ExtractError(path, "file not found" if not path.is_symlink() else "a link to a file that is missing")
    if not path.is_file():
        raise ExtractError(path, _not_a_file(path))
    size = path.stat().st_size
    if size == 0:
        raise ExtractError(path, "empty file")
    try:
        limit = max_file_bytes()
    except ValueError as err:
        raise ExtractError(path, str(err)) from err
    if size > limit:
        raise ExtractError(path, f"file is {human_size(size)}, over the {human_size(limit)} limit ({MAX_FILE_ENV})")
    if not os.access(path, os.R_OK):
        raise ExtractError(path, "cannot be read (permission denied)")
    return size


def _not_a_file(path: Path) -> str:
    """What a path that exists but is not a regular file is, for the refusal."""
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        return "is a folder, not a file: give the extract files in it (e.g. folder/*.csv)"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file: save the extract to a file first"
    if stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device or socket, not a file"
    return "not a regular file"


def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as err:
        raise ExtractError(path, f"cannot be read ({err.strerror or type(err).__name__})") from err


def _check_workbook_zip(path: Path) -> None:
    """A zip must be a spreadsheet workbook whose workbook part can be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            member = next((m for m in WORKBOOK_MEMBERS if m in names), None)
            if member is None:
                raise ExtractError(path, "not a recognised extract: a zip archive that is not a spreadsheet workbook")
            archive.read(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, KeyError, ValueError) as err:
        raise ExtractError(path, "unreadable or truncated workbook") from err


def _starts_like_xml(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore").lstrip("\ufeff").lstrip().startswith("<")
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _csv_format(path: Path, head: bytes) -> str:
    """'case_recording' or 'annex_a' from a CSV's header row (title rows above it tolerated)."""
    from ingest.readers.annex_a import annex_a_list_for_headings  # lazy: the Annex A reader is optional here
    from ingest.readers.recordings import is_recording_header

    rows = list(header_rows(decode_head(head)))
    if not rows:
        raise ExtractError(path, "empty file (no text other than blank lines)")
    for row in rows:
        if is_recording_header(row.headings):
            return "case_recording"
        if annex_a_list_for_headings([heading_key(h) for h in row.headings]) is not None:
            return "annex_a"
    raise ExtractError(
        path,
        f"not a recognised extract: headings {heading_summary(rows[0].headings)}"
        " match no Annex A list or the case-recording extract",
    )


def detect_format(path: Path) -> str:
    """'annex_a', 'cin_census' or 'case_recording', from the file's content; ExtractError when none."""
    path = Path(path)
    check_file(path)
    head = _read_head(path)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16, whose BOM starts UTF-32 LE's
        raise ExtractError(path, "is UTF-32 text, which is not accepted; save it as UTF-8 (CSV UTF-8 in Excel)")
    if head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC):
        _check_workbook_zip(path)
        return "annex_a"
    if head.startswith(OLE_MAGIC):
        return "annex_a"
    if _starts_like_xml(head):
        from ingest.readers.cin_census import check_cin_census

        check_cin_census(path)
        return "cin_census"
    if head.startswith(GZIP_MAGIC):
        raise ExtractError(path, "not a recognised extract: a gzip-compressed file (decompress it first)")
    if looks_binary(head):
        raise ExtractError(path, "not a recognised extract: binary content that is not a workbook, XML or CSV")
    return _csv_format(path, head)


def _reader(format_: str) -> Callable[[Path, duckdb.DuckDBPyConnection], ReadResult]:
    if format_ == "annex_a":
        from ingest.readers.annex_a import read_annex_a

        return read_annex_a
    if format_ == "cin_census":
        from ingest.readers.cin_census import read_cin_census

        return read_cin_census
    from ingest.readers.recordings import read_recordings

    return read_recordings


def read_extract(path: Path, con: duckdb.DuckDBPyConnection) -> ReadResult:
    """Check a file, find its format from its content and stage it with that format's reader."""
    path = Path(path)
    return _reader(detect_format(path))(path, con)
