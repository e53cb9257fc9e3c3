"""Statement-level differences between PostgreSQL and SQLite, and the one place that chunks id lists.

Every `connection.vendor` test of the project's business code is here (or in `core.db.bulk`, the
bulk loads of the importers). Table and column names come from `Model._meta`, never typed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection, connections

# Ids per statement: SQLite's limit on bound variables, and a size at which PostgreSQL still plans well.
ID_CHUNK = 5_000


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def id_chunks(ids: Iterable[int], size: int = ID_CHUNK) -> Iterator[list[int]]:
    """Sorted, distinct ids in lists of at most `size` (an iterator is consumed lazily)."""
    chunk: list[int] = []
    for pk in sorted(set(ids)) if not isinstance(ids, Iterator) else ids:
        chunk.append(pk)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model) -> str:
    return quote(model._meta.db_table)


def least() -> str:
    """The SQL name of the row-wise minimum of two values."""
    return "LEAST" if is_postgresql() else "MIN"


def greatest() -> str:
    return "GREATEST" if is_postgresql() else "MAX"


def distinct_from() -> str:
    """NULL-safe inequality operator."""
    return " IS DISTINCT FROM " if is_postgresql() else " IS NOT "


def id_list(ids: Sequence[int]) -> tuple[str, list]:
    """SQL for `… IN (<here>)` and its parameters: one array parameter on PostgreSQL (one plan for
    any length), placeholders on SQLite."""
    if is_postgresql():
        return "SELECT unnest(%s::bigint[])", [list(ids)]
    return ",".join(["%s"] * len(ids)), list(ids)


def by_id_range(model, alias: str) -> str:
    """`table AS alias` for a filter on an id range (an import batch's new rows). SQLite, without
    statistics, would rather walk a whole multi-column index than the rowid range."""
    return f"{table(model)} AS {alias}" + (" NOT INDEXED" if not is_postgresql() else "")


def first_by_time_sql(*, model, alias: str, value: str, time: str, group: str) -> str:
    """The `value` of the earliest (`time`, `value`) non-null row of each `group`, as an aggregate
    expression over `alias`: ARRAY_AGG on PostgreSQL, a correlated subquery on SQLite (no ARRAY_AGG)."""
    if is_postgresql():
        return f"(ARRAY_AGG({alias}.{value} ORDER BY {alias}.{time}, {alias}.{value}) FILTER (WHERE {alias}.{value} IS NOT NULL))[1]"
    source = table(model)  # names from the caller's constants and _meta
    return (
        f"(SELECT o.{value} FROM {source} o WHERE o.{group} = {alias}.{group} "  # noqa: S608
        f"AND o.{value} IS NOT NULL ORDER BY o.{time}, o.{value} LIMIT 1)"
    )


def lock_rows_suffix() -> str:
    """Appended to `SELECT … FROM t WHERE …`: lock the rows read, in id order (a fixed order: no
    deadlocks between writers). SQLite locks the whole database for a writer anyway.

    `FOR NO KEY UPDATE`, the lock PostgreSQL's own UPDATE of non-key columns takes: it does not wait
    for the KEY SHARE locks that inserting rows which reference these rows takes (the events of a
    batch, inserted before their parcels are folded). With `FOR UPDATE`, two workers that had each
    inserted events of the other's parcels waited on each other's KEY SHARE locks: a deadlock."""
    return " ORDER BY id FOR NO KEY UPDATE" if is_postgresql() else ""


def create_temporary_table(cursor, model) -> None:
    """The unmanaged `model`'s table as a temporary table of this connection (if not there yet)."""
    create_sql, _params = connection.SchemaEditorClass(connection, collect_sql=True).table_sql(model)
    cursor.execute(create_sql.replace("CREATE TABLE", "CREATE TEMPORARY TABLE IF NOT EXISTS", 1))


def analyze(cursor, model) -> None:
    """Fresh planner statistics for a table whose size just changed a lot (PostgreSQL; SQLite plans
    without them)."""
    if is_postgresql():
        cursor.execute(f"ANALYZE {table(model)}")


def update_from_returning(*, target, source, sets: str, where: str, restrict_to_source: bool) -> tuple[str, str]:
    """Pieces of `UPDATE target AS p SET … FROM source AS d WHERE … RETURNING <ids>`.

    Returns (sql without RETURNING, RETURNING column). PostgreSQL returns `p.id`; SQLite names the
    target's columns unqualified, and an `IN (SELECT id FROM source)` makes it look the targets up by
    the source's ids rather than scan every target row.
    """
    restrict = f" AND p.id IN (SELECT id FROM {table(source)})" if restrict_to_source and not is_postgresql() else ""  # noqa: S608
    sql = f"UPDATE {table(target)} AS p SET {sets} FROM {table(source)} AS d WHERE {where}{restrict}"  # noqa: S608
    return sql, ("p.id" if is_postgresql() else "id")


def without_jit(cursor=None) -> None:
    """PostgreSQL: no JIT for this transaction. Compiling wide CASE/EXISTS statements costs about a
    second each, more than running them; the planner's cost-based switch gets this wrong."""
    if is_postgresql() and connection.in_atomic_block:
        if cursor is None:
            with connection.cursor() as own:
                own.execute("SET LOCAL jit = off")
        else:
            cursor.execute("SET LOCAL jit = off")


def try_advisory_xact_lock(key: int) -> bool | None:
    """PostgreSQL: take a transaction-level advisory lock (released at commit, or when a killed
    worker's connection closes); True/False. None where the database has no such lock."""
    if not is_postgresql():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


def estimated_row_count(connection_, model) -> int | None:
    """PostgreSQL's estimate of a table's rows from the last ANALYZE (`pg_class.reltuples`); None on
    SQLite or for a table never analysed (-1 on PostgreSQL 14+, 0 before)."""
    if connection_.vendor != "postgresql":
        return None
    with connection_.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection_.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] <= 0:
        return None
    return int(row[0])


def estimated_query_cost(queryset) -> tuple[int, float] | None:
    """The planner's estimate of the rows `queryset` would return and of what it would cost
    (PostgreSQL `EXPLAIN`, nothing is run); None on SQLite, where counting is the only answer."""
    connection_ = connections[queryset.db]
    if connection_.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection_.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"]), float(plan[0]["Plan"]["Total Cost"])
