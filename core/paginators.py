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

from core.db.dialect import estimated_row_count


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
        estimate = estimated_row_count(connections[queryset.db], queryset.model)
        if estimate is None or estimate < self.estimate_threshold:
            return None
        return estimate
