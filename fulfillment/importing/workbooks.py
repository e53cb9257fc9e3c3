"""Reading an `.xlsx` workbook as an import file: its first sheet, the header in row 1, rows streamed
with openpyxl's read-only mode (flat memory) and numbered as the spreadsheet numbers them, so the
error report's lines are the rows the operator sees.

Cells are turned into the text the CSV reader would have given: a date or time cell is ISO 8601
(a time without offset is then read in `Asia/Shanghai`, as in CSV), an integral number has no
".0", a boolean is `true`/`false`, an empty cell is empty. Formulas count by their last computed
value. openpyxl parses the XML with defusedxml when it is installed (it is in requirements.txt), and
a workbook whose parts unpack to more than `MAX_UNPACKED_BYTES` is refused before it is opened.
"""

from __future__ import annotations

import datetime
import os
import zipfile
from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext as _

from .parsing import ImportRefused, RowError

ZIP_MAGIC = b"PK\x03\x04"
MAX_UNPACKED_BYTES = 2 << 30  # a zip bomb is refused, a real year of orders (~1 GB unpacked) is not


def is_workbook(path: str | os.PathLike) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == ZIP_MAGIC


def cell_text(value, number_format: str | None = None) -> str:
    """A cell's value as CSV text; a date cell whose format shows no time of day is a date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if number_format and "h" not in number_format.lower() and value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep="T", timespec="seconds")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    return str(value).strip()


class WorkbookSource:
    """An open workbook with the interface of `SourceFile`: `columns`, `rows()`, `bytes_read`, `close()`."""

    format = "xlsx"
    encoding = "xlsx"

    def __init__(self, path: str | os.PathLike):
        from openpyxl import load_workbook

        self.path = str(path)
        self.size = os.path.getsize(self.path)
        self._refuse_bombs()
        try:
            self._book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 — any broken workbook is a refused file, not a traceback
            raise ImportRefused(
                _("%(path)s cannot be read as an .xlsx workbook (%(error)s); save it again as .xlsx or CSV.")
                % {"path": self.path, "error": str(error)[:200] or type(error).__name__}
            ) from None
        if not self._book.worksheets:
            self.close()
            raise ImportRefused(_("%(path)s has no sheet.") % {"path": self.path})
        sheet = self._book.worksheets[0]
        self._total_rows = max(sheet.max_row or 1, 1)
        self._rows = enumerate(sheet.iter_rows(), start=1)
        self._row_number = 0
        header = next(self._rows, (1, ()))[1]
        self.columns = [_text(cell).lstrip("\ufeff").lower() for cell in header]
        while self.columns and not self.columns[-1]:
            self.columns.pop()
        twice = sorted({c for c in self.columns if c and self.columns.count(c) > 1})
        if twice:
            self.close()
            raise ImportRefused(
                _("%(path)s: the header names %(columns)s more than once; keep one column of each name.")
                % {"path": self.path, "columns": ", ".join(twice)}
            )

    def _refuse_bombs(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportRefused(
                _("%(path)s cannot be read as an .xlsx workbook (%(error)s); save it again as .xlsx or CSV.")
                % {"path": self.path, "error": error}
            ) from None
        if unpacked > MAX_UNPACKED_BYTES:
            raise ImportRefused(
                _("%(path)s unpacks to %(size)s MB, more than a workbook of data can hold; nothing was imported.")
                % {"path": self.path, "size": unpacked >> 20}
            )

    @property
    def bytes_read(self) -> int:
        return min(self.size, self.size * self._row_number // self._total_rows)

    def rows(self) -> Iterator[tuple[int, dict[str, str] | RowError | None]]:
        columns, width = self.columns, len(self.columns)
        for number, cells in self._rows:
            self._row_number = number
            texts = [_text(cell) for cell in cells]
            while texts and not texts[-1]:
                texts.pop()
            if not texts:
                continue  # blank row
            if len(texts) > width:
                yield number, RowError(
                    "",
                    _("%(count)s values but the header has %(width)s columns") % {"count": len(texts), "width": width},
                )
                continue
            row = dict(zip(columns, texts + [""] * (width - len(texts)), strict=True))
            bad = next((name for name, value in row.items() if "\x00" in value), None)
            yield number, (RowError(bad, _("contains a NUL character")) if bad else row)

    def close(self) -> None:
        if hasattr(self, "_book"):
            self._book.close()


def _text(cell) -> str:
    return cell_text(cell.value, getattr(cell, "number_format", None) if getattr(cell, "is_date", False) else None)
