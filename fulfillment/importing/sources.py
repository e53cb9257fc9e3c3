"""Reading an import file: the encoding from the bytes (UTF-8, UTF-8 with BOM, GB18030 as Chinese
spreadsheet tools export it), CSV or JSON Lines from the content, and the rows streamed one at a
time so that memory stays flat whatever the file size.
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

from .parsing import ImportRefused

_CHUNK = 1 << 20


def detect_encoding(path: str | os.PathLike) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', decided from the bytes of the whole file, not its name.

    The file is read once in 1 MB chunks through an incremental decoder (memory stays flat): a
    spreadsheet's GB18030 export with Chinese names further down is almost never valid UTF-8.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRefused(_("%(path)s is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 and try again.") % {"path": path})


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
        self._first: tuple[int, dict[str, str]] | None = None
        if self.format == "jsonl":
            self._jsonl = self._jsonl_rows()
            try:
                self._first = next(self._jsonl)
            except StopIteration:
                self._first = None
            if self._first is not None and self._first[1] is None:
                self.close()
                raise ImportRefused(
                    _("%(path)s: line %(line)s is not a JSON object; a JSON Lines file has one object per line.")
                    % {"path": self.path, "line": self._first[0]}
                )
            if self._first is not None:
                self.columns = list(self._first[1])
        else:
            self._csv = csv.reader(self._text)
            try:
                self.columns = [c.strip().lstrip("\ufeff").lower() for c in next(self._csv)]
            except StopIteration:
                self.columns = []

    def _sniff_format(self) -> str:
        """JSON Lines when the first non-blank character is `{`, otherwise CSV."""
        buffered = self._text.buffer
        peek = buffered.peek(4096)[:4096]
        text = peek.decode(self.encoding, errors="ignore").lstrip("\ufeff \t\r\n")
        return "jsonl" if text.startswith("{") else "csv"

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, str] | None]]:
        for line_no, line in enumerate(self._text, start=1):
            line = line.strip().lstrip("\ufeff")
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                yield line_no, None
                continue
            if not isinstance(obj, dict):
                yield line_no, None
                continue
            yield line_no, {str(k).strip().lower(): _json_text(v) for k, v in obj.items()}

    def rows(self) -> Iterator[tuple[int, dict[str, str] | None]]:
        """(line, row) pairs; row is None for a line that is not a JSON object (JSON Lines)."""
        if self.format == "jsonl":
            if self._first is not None:
                yield self._first
            yield from self._jsonl
            return
        columns = self.columns
        width = len(columns)
        reader = self._csv
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) < width:
                values = values + [""] * (width - len(values))
            yield reader.line_num, dict(zip(columns, values, strict=False))

    def close(self):
        self._text.close()


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
