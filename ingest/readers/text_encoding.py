"""The encoding of a text extract, and a UTF-8 copy of it when it is not UTF-8 already.

Accepted: UTF-8 (with or without a byte-order mark), UTF-16 little- or big-endian with a
byte-order mark (Excel's "Unicode text"), and Windows-1252 (Excel's "CSV" on Windows, a superset
of Latin-1 for letters). Anything else, including a file that mixes UTF-8 with bytes of another
encoding, is refused in one line: guessing would change names silently.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from ingest.readers.base import ExtractError

_CHUNK = 1 << 22
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
NOTICES = {
    "utf-16-le": "file is UTF-16 (little-endian): read as such",
    "utf-16-be": "file is UTF-16 (big-endian): read as such",
    "cp1252": "file is not UTF-8: read as Windows-1252 (Latin-1)",
}


@dataclass(frozen=True)
class TextSource:
    """A file to read as UTF-8: the original, or a UTF-8 copy of it."""

    path: Path
    encoding: str  # 'utf-8' | 'utf-16-le' | 'utf-16-be' | 'cp1252' (of the original)

    @property
    def notice(self) -> str | None:
        return NOTICES.get(self.encoding)


def _utf8_problem(path: Path) -> tuple[int, int, bool] | None:
    """None for valid UTF-8; else (byte offset, line) of the first invalid byte and whether UTF-8 sequences occur."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    seen_utf8 = False
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            try:
                if not (chunk.isascii() and not decoder.getstate()[0]):  # ASCII after a whole character is valid
                    decoder.decode(chunk)
            except UnicodeDecodeError as err:
                bad = offset + err.start
                return bad, _line_of(path, bad), seen_utf8 or _has_utf8(path)
            seen_utf8 = seen_utf8 or _has_utf8_sequence(chunk)
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, _line_of(path, offset), seen_utf8
    return None


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line of the byte at `offset` (counted only for the error message: valid files never pay)."""
    lines = 0
    with open(path, "rb") as handle:
        while offset > 0:
            chunk = handle.read(min(_CHUNK, offset))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines + 1


def _has_utf8(path: Path) -> bool:
    with open(path, "rb") as handle:
        return any(_has_utf8_sequence(chunk) for chunk in iter(lambda: handle.read(_CHUNK), b""))


def _has_utf8_sequence(chunk: bytes) -> bool:
    """True when the bytes hold a complete UTF-8 multi-byte sequence (decoding, invalid bytes dropped, leaves non-ASCII)."""
    return not chunk.isascii() and not chunk.decode("utf-8", errors="ignore").isascii()


def _cp1252_undefined(path: Path) -> bool:
    with open(path, "rb") as handle:
        return any(not _CP1252_UNDEFINED.isdisjoint(chunk) for chunk in iter(lambda: handle.read(_CHUNK), b""))


def _transcode(path: Path, folder: Path, encoding: str, skip: int) -> Path:
    """A UTF-8 copy of `path` (same file name, in `folder`), decoded from `encoding` after `skip` bytes (a BOM)."""
    target = folder / path.name
    if target.resolve() == path.resolve():  # never write over the file being read
        raise ValueError(f"the UTF-8 copy of {path.name} needs a folder of its own")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as source, open(target, "w", encoding="utf-8", newline="") as out:
            source.seek(skip)
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                out.write(decoder.decode(chunk))
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as err:
        raise ExtractError(
            path, f"is not valid {encoding.upper()} text ({err.reason}); save it again as UTF-8"
        ) from None
    return target


def utf8_source(path: Path, folder: Path) -> TextSource:
    """The file as UTF-8: itself when it is UTF-8, else a copy in `folder`; ExtractError for any other encoding."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF16_LE) and not head.startswith(codecs.BOM_UTF32_LE):
        return TextSource(_transcode(path, folder, "utf-16-le", 2), "utf-16-le")
    if head.startswith(codecs.BOM_UTF16_BE):
        return TextSource(_transcode(path, folder, "utf-16-be", 2), "utf-16-be")
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ExtractError(path, "is UTF-32 text, which is not accepted; save it as UTF-8 (or CSV UTF-8 in Excel)")
    problem = _utf8_problem(path)
    if problem is None:
        return TextSource(path, "utf-8")
    offset, line, seen_utf8 = problem
    if seen_utf8:
        raise ExtractError(
            path,
            f"mixes UTF-8 with bytes of another encoding (first at line {line}, byte {offset}); save it again as UTF-8",
        )
    if _cp1252_undefined(path):
        raise ExtractError(path, f"is neither UTF-8 nor Windows-1252 text (line {line}); save it again as UTF-8")
    return TextSource(_transcode(path, folder, "cp1252", 0), "cp1252")
