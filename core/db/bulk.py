"""Bulk loading through a staging table: the statements that differ between PostgreSQL and SQLite.

An importer that writes a large batch by set statements first loads the batch's rows into a
temporary staging table, then joins that table with the real ones in SQL that both databases
understand (`UPDATE … FROM`, `INSERT … SELECT … ON CONFLICT DO NOTHING`). What differs is only
how the rows get there and how the session is tuned for it:

| step | PostgreSQL | SQLite |
|---|---|---|
| a date and time in a staging row | the aware datetime | Django's text form (UTC, naive) |
| a batch before it is loaded | one COPY (CSV) payload, built off the connection's thread | the rows as they are |
| loading | `TRUNCATE`, then `COPY … FROM STDIN` | `DELETE FROM`, then one `executemany` |
| the session | `temp_buffers` for the staging rows | a 64 MB page cache |
| each batch's transaction | no wait for the WAL flush, `work_mem`, no JIT, constraints checked at once | nothing |

Callers name the staging table and its columns; the columns' kinds are `integer`, `bigint`,
`text` and `datetime`. The staging table is not a model; the real tables' names come from
`Model._meta` (`table_name`, `column_name`). The vendor is looked up once per call in a table of
implementations, as Django's compiler picks an expression's `as_<vendor>`.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Sequence

from django.db import DatabaseError, connection, transaction

Column = tuple[str, str]  # (name, kind): kind is integer, bigint, text or datetime


class StagingBatch(list):
    """A batch of staging rows with its COPY payload (PostgreSQL), built before it is loaded."""

    def __init__(self, rows, copy_payload: bytes):
        super().__init__(rows)
        self.copy_payload = copy_payload


def table_name(model) -> str:
    """The model's table, quoted for this connection."""
    return connection.ops.quote_name(model._meta.db_table)


def column_name(model, field_name: str) -> str:
    """The column of `model.field_name`, quoted for this connection."""
    return connection.ops.quote_name(model._meta.get_field(field_name).column)


def staging_datetime() -> Callable[[datetime.datetime], object]:
    """The function that turns an aware datetime into what a staging row holds (safe in any thread)."""
    return _vendor().staging_datetime


def staging_session_prepare() -> None:
    """Once per import, before the first staging table of the session is created."""
    _vendor().session_prepare()


def staging_table_create(*, name: str, columns: Sequence[Column]) -> None:
    """`CREATE TEMP TABLE IF NOT EXISTS name (columns)`; it lives as long as the connection."""
    kinds = _vendor().column_kinds
    definition = ", ".join(f"{column} {kinds[kind]}" for column, kind in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({definition})")


def staging_batch_prepare(rows: list) -> list:
    """The batch as the loader wants it; pure Python (no database), so it may run in a reading thread."""
    if not rows:
        return rows
    return _vendor().batch_prepare(rows)


def staging_table_load(cursor, *, name: str, columns: Sequence[Column], rows: list) -> None:
    """Empty the staging table and load `rows` (tuples of the `columns`, in order) into it.

    Emptied per batch rather than `ON COMMIT DELETE ROWS`: a dry run is one transaction.
    """
    _vendor().load(cursor, name, columns, rows)


def bulk_write_transaction_tune(cursor) -> None:
    """Inside a batch's transaction, before its set statements."""
    _vendor().transaction_tune(cursor)


# --------------------------------------------------------------------------------------------
# The implementations
# --------------------------------------------------------------------------------------------


class _PostgreSQL:
    column_kinds = {"integer": "integer", "bigint": "bigint", "text": "text", "datetime": "timestamptz"}

    @staticmethod
    def staging_datetime(moment: datetime.datetime):
        return moment

    @staticmethod
    def session_prepare() -> None:
        # A batch's staging rows (~10 MB) stay in the session's temp buffers (8 MB by default)
        # instead of spilling to temp files. Settable only before the session's first temp table.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET temp_buffers TO '256MB'")
        except DatabaseError:
            pass

    @staticmethod
    def batch_prepare(rows: list) -> StagingBatch:
        """One COPY (CSV) payload, built in the reading thread so that the connection's thread only
        streams bytes while the previous batch's statements run. (A datetime is written as
        `str()` gives it, `2026-03-02 10:00:00+08:00`, which timestamptz reads.)"""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return StagingBatch(rows, buffer.getvalue().encode("utf-8"))

    @classmethod
    def load(cls, cursor, name: str, columns: Sequence[Column], rows: list) -> None:
        cursor.execute(f"TRUNCATE {name}")
        payload = getattr(rows, "copy_payload", None)
        if payload is None:
            payload = cls.batch_prepare(rows).copy_payload
        # An empty CSV field is '' in a text column, NULL elsewhere (numbers, times).
        texts = ", ".join(column for column, kind in columns if kind == "text")
        force = f", FORCE_NOT_NULL ({texts})" if texts else ""
        copy_sql = f"COPY {name} ({', '.join(column for column, _kind in columns)}) FROM STDIN (FORMAT csv{force})"
        with cursor.cursor.copy(copy_sql) as copy:
            copy.write(payload)

    @staticmethod
    def transaction_tune(cursor) -> None:
        # Don't wait for the WAL flush at each batch's commit. A server crash may lose the last
        # batches reported as committed (never corrupt anything); re-running the file restores
        # them, exactly as after a killed import. (And room for the batch's hash joins and sort
        # in memory rather than temp files.)
        cursor.execute(
            "SET LOCAL synchronous_commit TO OFF; SET LOCAL work_mem TO '64MB'; SET LOCAL jit TO off; "
            "SET CONSTRAINTS ALL IMMEDIATE"
        )


class _SQLite:
    column_kinds = {"integer": "integer", "bigint": "bigint", "text": "text", "datetime": "text"}

    @staticmethod
    def staging_datetime(moment: datetime.datetime):
        # Django's SQLite text form of a datetime: UTC, naive, "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return str(moment.astimezone(datetime.UTC).replace(tzinfo=None))

    @staticmethod
    def session_prepare() -> None:
        # SQLite's page cache is 2 MB by default: the indexes read by a large import's set
        # statements are read from the file over and over. 64 MB for this connection (counted in
        # the importing process's memory).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")

    @staticmethod
    def batch_prepare(rows: list) -> list:
        return rows

    @staticmethod
    def load(cursor, name: str, columns: Sequence[Column], rows: list) -> None:
        cursor.execute(f"DELETE FROM {name}")  # noqa: S608 — the caller's staging table
        names = ", ".join(column for column, _kind in columns)
        marks = ", ".join(["?"] * len(columns))
        # The raw sqlite3 cursor: Django's wrapper would rewrite %s for every one of the rows.
        cursor.cursor.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)  # noqa: S608

    @staticmethod
    def transaction_tune(cursor) -> None:
        pass


_VENDORS = {"postgresql": _PostgreSQL, "sqlite": _SQLite}


def _vendor():
    try:
        return _VENDORS[connection.vendor]
    except KeyError:
        raise NotImplementedError(f"core.db.bulk has no implementation for {connection.vendor}") from None
