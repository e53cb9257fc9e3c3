"""The base class of every importer: validate a row into a record, write records batch by batch.

An importer validates each row into a typed record (`clean_row`, raising `RowError`) and writes the
accepted records batch by batch (`apply_batch`), each batch in its own transaction, so that an
import killed half-way leaves whole batches behind and re-running the file completes it: every
importer writes by natural key and counts an existing identical row as *unchanged*.
"""

from __future__ import annotations

from collections.abc import Iterator


class Importer:
    """Subclass and set `command`, `required_columns`; implement `clean_row` and `apply_batch`.

    `clean_row(row, line)` returns a record (anything) or raises `RowError(field, message)`.
    `apply_batch(records)` writes one batch (called inside a transaction) and returns
    `(inserted, updated, unchanged)`; a record it cannot apply (e.g. one naming a row the
    database does not have) is reported with `self.reject(line, field, message)` and not
    counted. `begin()` runs once before the first batch, `finish()` once after the last (both
    inside a transaction).
    """

    command: str = ""
    required_columns: tuple[str, ...] = ()
    optional_columns: tuple[str, ...] = ()  # read when present (shown on the upload page and its template)
    # The permission ("app.codename") a user needs, besides `fulfillment.add_importrun`, to run this
    # import from a page: the write it stands for (a pickup confirmation file confirms pickups).
    permission: str = ""
    batch_size: int = 5000
    # Validate the next batch in a background thread while this one is written (only for
    # importers whose clean_row touches no database).
    read_ahead: bool = False

    def __init__(self, *, by=None, **options):
        self.by = by
        self.options = options
        self.dry_run = False
        self._rejects: list[tuple[int, str, str]] = []

    def clean_row(self, row: dict[str, str], line: int):
        raise NotImplementedError

    def apply_batch(self, records: list) -> tuple[int, int, int]:
        raise NotImplementedError

    def prepare_batch(self, records: list) -> list:
        """A full batch of cleaned records before it is applied (no database here: with
        `read_ahead` this runs in the reading thread). Returns the list given to `apply_batch`."""
        return records

    def begin(self) -> None:
        """Once, before the first batch (e.g. create a staging table)."""

    def finish(self) -> None:
        """Once, after the last batch (e.g. recompute what depends on the whole file)."""

    def reject(self, line: int, field: str, message: str) -> None:
        self._rejects.append((line, field, str(message)))

    def take_rejects(self) -> list[tuple[int, str, str]]:
        rejects, self._rejects = self._rejects, []
        return rejects

    def source_label(self) -> str:
        """What ImportRun.source says when the rows do not come from a file."""
        return f"({self.command})"

    def rows(self) -> Iterator[tuple[int, dict[str, str] | None]] | None:
        """Rows from somewhere other than a file (e.g. a calendar package); None = read the file."""
        return None
