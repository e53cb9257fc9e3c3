"""Exports that a spreadsheet opens safely (OWASP "CSV Injection").

Imported text — an order id, a city, a description — is data, never a formula. In CSV a cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by spreadsheet tools:
such text gets a leading apostrophe, which they show as text. In XLSX a text cell is never a formula
unless the writer makes it one (openpyxl does for text starting with `=`): text is written as text.
Numbers stay numbers (Decimal, int, float are never touched), so a claim form can still sum them;
Chinese text is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell: None as empty, formula-leading text quoted, anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable) -> list:
    return [csv_cell(value) for value in values]


def xlsx_row(sheet, values: Iterable) -> list:
    """A write-only worksheet row in which text is always a text cell."""
    cells = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells
