"""Reading an import file: the encoding from the bytes (UTF-8, UTF-8 with BOM, GB18030 as Chinese
spreadsheet tools export it), CSV, JSON Lines or an `.xlsx` workbook (`workbooks`) from the content,
and the rows streamed one at a time so that memory stays flat whatever the file size.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from .parsing import ImportRefused, RowError
from .workbooks import WorkbookSource, is_workbook

_CHUNK = 1 << 20


def detect_encoding(path: str | os.PathLike) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', decided from the bytes of the whole file, not its name.

    The file is read once, line by line: a spreadsheet's GB18030 export with Chinese names further
    down is almost never valid UTF-8, and a line of Chinese text that *is* valid UTF-8 is almost never
    GB18030. A file with lines of both kinds mixes encodings (two exports pasted together) and is
    refused, naming the first line that does not decode like the ones before it.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    first_utf8 = first_other = None  # line numbers of the first non-ASCII line of each kind
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                first_other = first_other or number
            else:
                first_utf8 = first_utf8 or number
            if first_utf8 and first_other:
                break
    if first_utf8 and first_other:
        raise ImportRefused(
            _("%(path)s mixes encodings: line %(line)s is not encoded like the lines before it. Save the whole "
              "file as CSV UTF-8 and try again.")
            % {"path": path, "line": max(first_utf8, first_other)}
        )
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if first_other is None:
        return "utf-8"
    try:
        with open(path, "rb") as f:
            decoder = codecs.getincrementaldecoder("gb18030")("strict")
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportRefused(_not_utf8_nor_gb18030(path)) from None
    return "gb18030"


def _not_utf8_nor_gb18030(path) -> str:
    """The refusal of a text in another encoding, naming the one charset-normalizer recognises."""
    from charset_normalizer import from_bytes

    with open(path, "rb") as f:
        guess = from_bytes(f.read(_CHUNK)).best()
    if guess is not None and guess.encoding not in {"utf_8", "ascii", "gb18030"}:
        return _("%(path)s looks like %(encoding)s text, neither UTF-8 nor GB18030; save it as CSV UTF-8 and try again.") % {
            "path": path, "encoding": guess.encoding.replace("_", "-").upper()
        }
    return _("%(path)s is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 and try again.") % {"path": path}


GZIP_MAGIC = b"\x1f\x8b"
MAX_GUNZIPPED_BYTES = 20 << 30


def open_source(path: str | os.PathLike) -> SourceFile | WorkbookSource:
    """The file's rows: an `.xlsx` workbook or a gzip-compressed text file (an event archive; both told
    by their bytes, not their names), or a text file."""
    if is_workbook(path):
        return WorkbookSource(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    return _GunzippedSource(path) if compressed else SourceFile(path)


# A line (a CSV row or a JSON Lines object) longer than this is a broken file, not data: it is
# reported and skipped without being held in memory.
MAX_LINE_CHARS = 1 << 20
_OVERLONG = "\x00overlong\n"
csv.field_size_limit(MAX_LINE_CHARS)


def _bounded_lines(text) -> Iterator[str]:
    """The lines of `text`, each at most MAX_LINE_CHARS; a longer one is drained and replaced by a marker."""
    while line := text.readline(MAX_LINE_CHARS):
        if len(line) >= MAX_LINE_CHARS and not line.endswith("\n"):
            while (rest := text.readline(MAX_LINE_CHARS)) and not rest.endswith("\n"):
                pass
            yield _OVERLONG
            continue
        yield line


def _overlong(line: int) -> RowError:
    return RowError("", _("line %(line)s is longer than %(max)s characters: not read") % {"line": line, "max": MAX_LINE_CHARS})


class _CountingReader(io.RawIOBase):
    """A raw binary stream that counts the bytes read, for the progress percentage."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n

    def close(self):
        self.raw.close()
        super().close()


class SourceFile:
    """An open input file: `columns` (the header) and `rows()` yielding (line number, row dict)."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.size = os.path.getsize(self.path)
        self.encoding = detect_encoding(self.path)
        self._counter = _CountingReader(open(self.path, "rb", buffering=0))  # noqa: SIM115 (closed in close())
        self._text = io.TextIOWrapper(io.BufferedReader(self._counter, _CHUNK), encoding=self.encoding, newline="")
        self.format = self._sniff_format()
        self.columns: list[str] = []
        self._head: list[tuple[int, dict[str, str] | RowError | None]] = []
        if self.format == "jsonl":
            self._jsonl = self._jsonl_rows()
            # The columns are the first readable object's keys; rows before it are kept for the report.
            for item in self._jsonl:
                self._head.append(item)
                if item[1] is None and len(self._head) == 1:
                    self.close()
                    raise ImportRefused(
                        _("%(path)s: line %(line)s is not a JSON object; a JSON Lines file has one object per line.")
                        % {"path": self.path, "line": item[0]}
                    )
                if isinstance(item[1], dict):
                    self.columns = list(item[1])
                    break
        else:
            self._csv = csv.reader(_bounded_lines(self._text))
            try:
                self.columns = [c.strip().lstrip("\ufeff").lower() for c in next(self._csv)]
            except (StopIteration, csv.Error):
                self.columns = []
        twice = sorted({c for c in self.columns if c and self.columns.count(c) > 1})
        if twice:
            self.close()
            raise ImportRefused(
                _("%(path)s: the header names %(columns)s more than once; keep one column of each name.")
                % {"path": self.path, "columns": ", ".join(twice)}
            )

    def _sniff_format(self) -> str:
        """JSON Lines when the first non-blank character is `{`, otherwise CSV."""
        buffered = self._text.buffer
        peek = buffered.peek(4096)[:4096]
        text = peek.decode(self.encoding, errors="ignore").lstrip("\ufeff \t\r\n")
        return "jsonl" if text.startswith("{") else "csv"

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, str] | RowError | None]]:
        for line_no, line in enumerate(_bounded_lines(self._text), start=1):
            if line == _OVERLONG:
                yield line_no, _overlong(line_no)
                continue
            line = line.strip().lstrip("\ufeff")
            if not line:
                continue
            try:
                obj = json.loads(line, object_pairs_hook=_pairs)
            except ValueError:
                yield line_no, None
                continue
            if not isinstance(obj, list) or obj and not isinstance(obj[0], tuple):
                yield line_no, None
                continue
            yield line_no, _json_row(obj)

    def rows(self) -> Iterator[tuple[int, dict[str, str] | RowError | None]]:
        """(line, row) pairs; row is None for a line that is not a JSON object (JSON Lines), a RowError
        for a line the file itself makes unreadable (too long, too many values, a NUL, a nested value)."""
        if self.format == "jsonl":
            yield from self._head
            yield from self._jsonl
            return
        columns = self.columns
        width = len(columns)
        reader = self._csv
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield reader.line_num, RowError("", _("the line cannot be read as CSV (%(error)s)") % {"error": error})
                continue
            if values == [_OVERLONG.rstrip("\n")]:
                yield reader.line_num, _overlong(reader.line_num)
                continue
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) > width:
                yield reader.line_num, RowError(
                    "",
                    _("%(count)s values but the header has %(width)s columns (an unquoted comma?)")
                    % {"count": len(values), "width": width},
                )
                continue
            if len(values) < width:
                values = values + [""] * (width - len(values))
            row = dict(zip(columns, values, strict=True))
            yield reader.line_num, _nul_free(row)

    def close(self):
        self._text.close()


def _pairs(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Keep a JSON object's pairs as they are (duplicate keys included) for `_json_row` to judge."""
    return pairs


def _json_row(pairs: list[tuple[str, Any]]) -> dict[str, str] | RowError:
    """A JSON Lines object as a row of text values; a key given twice, or a value that is an object or
    an array, rejects the row (it would be stored as Python text otherwise)."""
    row: dict[str, str] = {}
    for key, value in pairs:
        name = str(key).strip().lower()
        if name in row:
            return RowError(name, _("is given twice in the same object"))
        if isinstance(value, (list, dict)) or (isinstance(value, list) and value and isinstance(value[0], tuple)):
            return RowError(name, _("is a JSON object or array; expected text or a number"))
        row[name] = _json_text(value)
    return _nul_free(row)


def json_row(obj: dict) -> dict[str, str] | RowError:
    """A decoded JSON object (a pushed or posted entry) as a row of text values, judged as a JSON Lines line."""
    return _json_row(list(obj.items()))


def _nul_free(row: dict[str, str]) -> dict[str, str] | RowError:
    for name, value in row.items():
        if "\x00" in value:
            return RowError(name, _("contains a NUL character"))
    return row


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _GunzippedSource(SourceFile):
    """A .gz text file, decompressed once to a private work file (removed on close) and read as text."""

    def __init__(self, path: str | os.PathLike):
        import gzip
        import tempfile

        handle, work = tempfile.mkstemp(prefix="parcel-gunzip-", suffix=".txt")
        self._work = work
        try:
            with gzip.open(path, "rb") as packed, os.fdopen(handle, "wb") as plain:
                while chunk := packed.read(_CHUNK):
                    plain.write(chunk)
                    if plain.tell() > MAX_GUNZIPPED_BYTES:
                        raise ImportRefused(_("%(path)s unpacks to more than 20 GB: refused.") % {"path": path})
        except (OSError, EOFError) as error:
            os.unlink(work)
            raise ImportRefused(_("%(path)s is not a readable gzip file (%(error)s).") % {"path": path, "error": error}) from None
        except ImportRefused:
            os.unlink(work)
            raise
        try:
            super().__init__(work)
        except BaseException:
            os.unlink(work)
            raise
        self.path = str(path)

    def close(self):
        super().close()
        if os.path.exists(self._work):
            os.unlink(self._work)
