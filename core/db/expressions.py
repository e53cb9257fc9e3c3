"""Django expressions whose SQL differs between PostgreSQL and SQLite (`as_<vendor>`, as Django's own
`Greatest`/`Least` do), so that business code never asks which database it runs on."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

from django.db.models import BooleanField, DateTimeField, F, Func, Value


class IsDistinctFrom(Func):
    """`a IS DISTINCT FROM b`: unequal, NULL-safe (SQLite spells it `IS NOT`)."""

    arg_joiner = " IS DISTINCT FROM "
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, arg_joiner=" IS NOT ", **extra_context)


class PlusDuration(Func):
    """`field + delta` in whole seconds.

    PostgreSQL: `field + interval`. SQLite: its own `datetime(t, '+N seconds')` on Django's text form
    of a UTC time, with the fraction of a second carried over as written: the very text Django would
    have stored, so comparisons with stored deadlines stay exact. (Django's own `+ interval` there
    calls a Python function per row, most of the cost of a batch's deadlines; and datetime() alone
    rounds a fraction to milliseconds, .999999 → +1 s.)
    """

    output_field = DateTimeField()

    def __init__(self, expression, delta: datetime.timedelta):
        self.seconds = int(delta.total_seconds())
        super().__init__(expression, Value(datetime.timedelta(seconds=self.seconds)))

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" + ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        field_sql, params = compiler.compile(self.source_expressions[0])
        sql = f"(datetime(substr({field_sql}, 1, 19), '+{self.seconds:d} seconds') || substr({field_sql}, 20))"
        return sql, [*params, *params]


def plus(field: str, delta: datetime.timedelta) -> PlusDuration:
    return PlusDuration(F(field), delta)


class NotIn(Func):
    """`NOT (field IN ('a', 'b'))` with the values as SQL literals, not parameters.

    Written exactly as the predicate of a partial index: SQLite uses a partial index only when the
    query repeats its WHERE term with the same constants (a bound parameter does not count).
    """

    template = "NOT (%(expressions)s IN (%(values)s))"
    output_field = BooleanField()

    def __init__(self, field: str, values: Iterable[str]):
        values = list(values)
        if not all(re.fullmatch(r"[a-z_]+", value) for value in values):
            raise ValueError("values must be plain identifiers to be written as SQL literals")
        super().__init__(F(field), values=", ".join(f"'{value}'" for value in values))
