"""Rows for the bench scripts' bulk loads (COPY, executemany), built from the models' own field list.

The loads bypass the ORM for speed, so nothing else would fill a column the script does not know
about: a column added to a model later (with a default, or nullable, or an empty string) must not
break them. `Table(Model)` lists `Model._meta.concrete_fields`; `table.row({"attname": value, ...})`
puts the given values in column order and every other column's default or empty value (a NOT NULL
column without a default gets "" / 0 / False / now, as a form would). Table and column names come
from `_meta`, never from strings typed here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import connection, models

REQUIRED = object()  # a NOT NULL foreign key without a default: the script must give it


def empty_value(field: models.Field, now: dt.datetime) -> Any:
    """What a column holds when the script does not set it."""
    if field.has_default():
        return field.get_default()
    if field.primary_key:
        return REQUIRED
    if field.null:
        return None
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now.date() if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField) else now
    if field.is_relation:
        return REQUIRED
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DateTimeField):
        return now
    if isinstance(field, models.DateField):
        return now.date()
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()  # a fresh one each time it is asked for (unique tokens)
    if isinstance(field, models.DecimalField | models.IntegerField | models.FloatField):
        return 0
    if field.empty_strings_allowed:
        return ""
    return REQUIRED


def _sqlite(value: Any) -> Any:
    """sqlite3 stores what Django's SQLite backend would: naive UTC text for datetimes, text for decimals."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


class Table:
    """One model's table for a bulk load: its name, its columns, and rows in column order."""

    def __init__(self, model: type[models.Model], *, now: dt.datetime, with_pk: bool = True):
        meta = model._meta
        self.model = model
        self.name = meta.db_table
        self.fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
        self.columns = [f.column for f in self.fields]
        self._spec = [(f.attname, empty_value(f, now), f.null) for f in self.fields]
        self._sqlite = connection.vendor == "sqlite"
        self._checked = False

    def quoted(self) -> tuple[str, str]:
        """The quoted table name and the quoted, comma-separated column list."""
        q = connection.ops.quote_name
        return q(self.name), ", ".join(q(c) for c in self.columns)

    def _check(self, values: Mapping[str, Any]) -> None:
        names = {attname for attname, _, _ in self._spec}
        unknown = set(values) - names
        missing = [attname for attname, empty, _ in self._spec if empty is REQUIRED and attname not in values]
        if unknown or missing:
            raise ValueError(f"{self.name}: unknown columns {sorted(unknown)}, required columns not given {missing}")
        self._checked = True

    def row(self, values: Mapping[str, Any]) -> list[Any]:
        """Values by attname (`shop_id`, not `shop`) → a row in column order; None on a NOT NULL column means empty."""
        if not self._checked:
            self._check(values)
        out = []
        for attname, empty, null in self._spec:
            value = values.get(attname, empty)
            out.append(empty if value is None and not null else value)
        return [_sqlite(v) for v in out] if self._sqlite else out

    def copy(self, pg_cursor, rows: Iterable[Mapping[str, Any]]) -> int:
        """PostgreSQL: stream the rows through `COPY … FROM STDIN` (psycopg adapts each value)."""
        table, columns = self.quoted()
        count = 0
        with pg_cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(self.row(values))
                count += 1
        return count

    def insert_many(self, raw_cursor, rows: Iterable[Mapping[str, Any]], *, batch: int = 20000) -> int:
        """SQLite: `executemany` in batches on the DB-API cursor (no ORM, no per-row SQL)."""
        table, columns = self.quoted()
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(self.columns))})"
        count, buffer = 0, []
        for values in rows:
            buffer.append(self.row(values))
            if len(buffer) >= batch:
                raw_cursor.executemany(sql, buffer)
                count += len(buffer)
                buffer = []
        raw_cursor.executemany(sql, buffer)
        return count + len(buffer)

    def select(self, exprs: Mapping[str, str]) -> tuple[str, str, list[Any]]:
        """For `INSERT INTO table (columns) SELECT …`: the given SQL expression per attname, and a parameter
        holding the empty value for every other column. Returns (columns, select list, parameters)."""
        self._check(exprs)
        items, params = [], []
        for attname, empty, _null in self._spec:
            if attname in exprs:
                items.append(exprs[attname])
            else:
                items.append("%s")
                params.append(_sqlite(empty) if self._sqlite else empty)
        return self.quoted()[1], ", ".join(items), params

    def write(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """COPY on PostgreSQL, executemany on SQLite, on Django's connection (inside the caller's transaction)."""
        with connection.cursor() as cursor:
            raw = cursor.cursor if connection.vendor == "postgresql" else cursor.connection.cursor()
            return self.copy(raw, rows) if connection.vendor == "postgresql" else self.insert_many(raw, rows)


def column(model: type[models.Model], name: str) -> str:
    """A field's quoted column name, for the few SQL strings the bench scripts write."""
    return connection.ops.quote_name(model._meta.get_field(name).column)


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def reset_sequence(cursor, model: type[models.Model]) -> None:
    """PostgreSQL: after rows were loaded with explicit ids, the next id follows the largest."""
    q = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column
    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT max({q(pk)}) FROM {q(table)}))", [q(table), pk])
