"""A paginator for the admin's big tables (parcels, tracking events, alerts).

`SELECT COUNT(*)` over millions of rows is a sequential scan on PostgreSQL: the unfiltered change list
would pay it on every page view. When the query has no WHERE clause and the planner's statistics say
the table is large, the row count estimated by the last ANALYZE (`pg_class.reltuples`) is used
instead. Filtered lists, small tables, tables never analysed and SQLite count exactly.
Use it with `show_full_result_count = False` so the admin does not count the whole table again.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    # Below this many (estimated) rows an exact count is cheap enough and exactness wins.
    estimate_threshold = 100_000

    @cached_property
    def count(self) -> int:
        estimate = self._estimated_count()
        if estimate is not None:
            return estimate
        return super().count

    def _estimated_count(self) -> int | None:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None or query.where or query.distinct or query.combinator or query.is_sliced:
            return None
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
        # reltuples is -1 (PostgreSQL 14+) or 0 for a table never vacuumed or analysed.
        if row is None or row[0] is None or row[0] < self.estimate_threshold:
            return None
        return int(row[0])
