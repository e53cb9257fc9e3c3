"""Monthly range partitions of a big append-only table on PostgreSQL (the tracking events); nothing on SQLite.

The table is partitioned by a timestamp column, one partition a month (`<table>_pYYYYMM`), plus a
DEFAULT partition that catches a row of a month with no partition of its own yet (a back-filled or
late event): an insert never fails for want of a partition. `ensure_months` creates the partitions
of the given months, moving the rows the DEFAULT partition holds for a month into its new partition;
`detach_and_drop` lets a month go (retention). Every statement names tables through `quote`.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable

from django.db import connection, transaction

from .dialect import is_postgresql, quote

Month = tuple[int, int]


def month_of(moment: datetime.datetime | datetime.date) -> Month:
    return moment.year, moment.month


def next_month(month: Month) -> Month:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def month_bounds(month: Month) -> tuple[str, str]:
    """The partition's range in UTC: [first instant of the month, first instant of the next)."""
    start, end = month, next_month(month)
    return f"{start[0]:04d}-{start[1]:02d}-01 00:00:00+00", f"{end[0]:04d}-{end[1]:02d}-01 00:00:00+00"


def partition_name(table: str, month: Month) -> str:
    return f"{table}_p{month[0]:04d}{month[1]:02d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def is_partitioned(table: str) -> bool:
    if not is_postgresql():
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [table],
        )
        return cursor.fetchone() is not None


def months(table: str) -> list[Month]:
    """The months that have a partition of their own, in order."""
    if not is_partitioned(table):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    prefix = f"{table}_p"
    return sorted((int(n[len(prefix):][:4]), int(n[len(prefix):][4:6])) for n in names if n.startswith(prefix))


def months_in_default(table: str, column: str) -> list[Month]:
    """The months (UTC) of the rows waiting in the DEFAULT partition."""
    if not is_partitioned(table):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT extract(year FROM {quote(column)} AT TIME ZONE 'UTC')::int, "  # noqa: S608
            f"extract(month FROM {quote(column)} AT TIME ZONE 'UTC')::int FROM {quote(default_name(table))}"
        )
        return sorted(tuple(row) for row in cursor.fetchall())


def ensure_months(table: str, column: str, wanted: Iterable[Month]) -> list[Month]:
    """Create the missing partitions of `wanted` (moving their rows out of DEFAULT); returns those created."""
    if not is_partitioned(table):
        return []
    have = set(months(table))
    created = []
    for month in sorted(set(wanted) - have):
        _create_month(table, column, month)
        created.append(month)
    return created


def _create_month(table: str, column: str, month: Month) -> None:
    """A new month's partition: built beside the table, filled from DEFAULT, then attached, in one
    transaction (the DEFAULT partition may not hold rows of a range another partition takes)."""
    low, high = month_bounds(month)
    name, default = partition_name(table, month), default_name(table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quote(table)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {quote(name)} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        moved = (
            f"DELETE FROM {quote(default)} WHERE {quote(column)} >= %s AND {quote(column)} < %s RETURNING *"  # noqa: S608
        )
        cursor.execute(f"WITH moved AS ({moved}) INSERT INTO {quote(name)} SELECT * FROM moved", [low, high])  # noqa: S608
        cursor.execute(
            f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} FOR VALUES FROM (%s) TO (%s)", [low, high]
        )


def month_row_count(table: str, month: Month) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quote(partition_name(table, month))}")  # noqa: S608
        return cursor.fetchone()[0]


def detach_and_drop(table: str, month: Month) -> None:
    name = partition_name(table, month)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {quote(name)}")
        cursor.execute(f"DROP TABLE {quote(name)}")


def partition_table(
    *, table: str, column: str, key: str, unique: tuple[str, str], foreign_keys: list[str], ahead: int = 3
) -> str:
    """Convert a plain table into a partitioned one in place, keeping every row and the names Django
    knows (the table, the unique constraint, the id sequence). `key`: the id column (the primary key
    becomes (id, column), as a partitioned table's keys must hold the partition column); `unique`:
    (constraint name, column list); `foreign_keys`: their `FOREIGN KEY … REFERENCES …` clauses.
    Returns a line saying how long it took per million rows."""
    started = time.monotonic()
    old, new = f"{table}__plain", f"{table}__partitioned"
    sequence = f"{table}_{key}_seq"
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT count(*), min({quote(column)}), max({quote(column)}) FROM {quote(table)}")  # noqa: S608
        rows, first, last = cursor.fetchone()
        cursor.execute(
            f"CREATE TABLE {quote(new)} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            f"PARTITION BY RANGE ({quote(column)})"
        )
        # The id: a plain sequence (identity columns on partitioned tables need PostgreSQL 17).
        cursor.execute(f"ALTER TABLE {quote(new)} ALTER COLUMN {quote(key)} DROP IDENTITY IF EXISTS")
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {quote(sequence + '_p')}")
        cursor.execute(f"SELECT setval(%s, GREATEST((SELECT COALESCE(max({quote(key)}), 0) FROM {quote(table)}), 1))",  # noqa: S608
                       [sequence + "_p"])  # fmt: skip
        cursor.execute(
            f"ALTER TABLE {quote(new)} ALTER COLUMN {quote(key)} SET DEFAULT nextval('{sequence}_p'::regclass)"
        )
        cursor.execute(f"ALTER TABLE {quote(new)} ADD PRIMARY KEY ({quote(key)}, {quote(column)})")
        cursor.execute(f"ALTER TABLE {quote(new)} ADD CONSTRAINT {quote(unique[0] + '_p')} UNIQUE ({unique[1]})")
        for number, clause in enumerate(foreign_keys):
            cursor.execute(f"ALTER TABLE {quote(new)} ADD CONSTRAINT {quote(f'{table}_fk{number}')} {clause}")
        cursor.execute(f"CREATE TABLE {quote(default_name(table) + '_p')} PARTITION OF {quote(new)} DEFAULT")
        wanted = set()
        if first is not None:
            month = month_of(first)
            while month <= month_of(last):
                wanted.add(month)
                month = next_month(month)
        today = month_of(datetime.datetime.now(tz=datetime.UTC))
        month = today
        for _ in range(ahead + 1):
            wanted.add(month)
            month = next_month(month)
        for month in sorted(wanted):
            low, high = month_bounds(month)
            cursor.execute(
                f"CREATE TABLE {quote(partition_name(table, month) + '_p')} PARTITION OF {quote(new)} "
                "FOR VALUES FROM (%s) TO (%s)",
                [low, high],
            )
        cursor.execute(f"INSERT INTO {quote(new)} SELECT * FROM {quote(table)}")  # noqa: S608
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the copied keys now: tables are renamed next
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(old)}")
        cursor.execute(f"DROP TABLE {quote(old)} CASCADE")
        cursor.execute(f"ALTER TABLE {quote(new)} RENAME TO {quote(table)}")
        cursor.execute(f"ALTER SEQUENCE {quote(sequence + '_p')} RENAME TO {quote(sequence)}")
        cursor.execute(f"ALTER SEQUENCE {quote(sequence)} OWNED BY {quote(table)}.{quote(key)}")
        cursor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(key)} SET DEFAULT nextval('{sequence}'::regclass)")
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(unique[0] + '_p')} TO {quote(unique[0])}")
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(new + '_pkey')} TO {quote(table + '_pkey')}")
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        for (child,) in cursor.fetchall():
            if child.endswith("_p"):
                cursor.execute(f"ALTER TABLE {quote(child)} RENAME TO {quote(child[:-2])}")
    seconds = time.monotonic() - started
    per_million = seconds / rows * 1_000_000 if rows else 0.0
    return f"{table}: {rows:,} rows partitioned by month in {seconds:.1f} s ({per_million:.1f} s per million)"
