"""The stalled and overdue list."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import F, QuerySet

from monitoring.filters import STALLED_SORTS, StalledParcelFilter
from monitoring.models import Alert
from monitoring.selectors.common import open_alerts


def stalled_parcels(*, data, now: datetime.datetime | None = None) -> tuple[StalledParcelFilter, QuerySet[Alert]]:
    """Open alerts filtered by `data` (a QueryDict), sorted by `data["sort"]` (default: soonest due first).

    Returns the bound FilterSet (for the form) and the filtered, sorted queryset. An invalid filter
    value (an unknown shop, a level that does not exist) gives no rows, never a wider result: the form
    shows the error, and the export refuses it.
    """
    base = open_alerts().select_related(
        "parcel", "parcel__shop", "parcel__carrier", "parcel__outlet", "parcel__outlet__carrier", "parcel__order"
    )
    filterset = StalledParcelFilter(data, queryset=base, now=now)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    return filterset, queryset.order_by(*stalled_ordering(data.get("sort")))


def stalled_ordering(sort: str | None) -> list:
    """Order by a whitelisted column, then by id so that pages never overlap.

    Parcels without a valid node yet sort after the others when ascending and before them when
    descending, on every database: the order PostgreSQL's index on last_event_at gives for free.
    """
    sort = sort or "due"
    descending = sort.startswith("-")
    field = STALLED_SORTS.get(sort.lstrip("-"), "due_at")
    if field == "parcel__last_event_at":
        if descending:
            # Walked backwards the index puts the parcels without a valid node first, tens of thousands
            # of them at scale: a tie-breaker would make PostgreSQL sort that whole group for one page.
            return [F(field).desc(nulls_first=True)]
        return [F(field).asc(nulls_last=True), "id"]
    return [f"-{field}" if descending else field, "-id" if descending else "id"]


@dataclass
class Page:
    rows: list
    number: int
    has_next: bool
    has_previous: bool


MAX_PAGE = 100_000  # past it, an offset overflows SQLite's integers; nobody pages that far


def page_without_count(queryset: QuerySet, *, number: int, size: int) -> Page:
    """One page of `size` rows without COUNT(*): fetch one extra row to know whether a next page exists."""
    number = min(max(number, 1), MAX_PAGE)
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(rows=rows[:size], number=number, has_next=len(rows) > size, has_previous=number > 1)


STALLED_CSV_COLUMNS = (
    "parcel__tracking_no",
    "parcel__carrier__code",
    "parcel__shop__code",
    "parcel__platform",
    "parcel__outlet__code",
    "kind",
    "level",
    "raised_at",
    "due_at",
    "parcel__paid_at",
    "parcel__picked_up_at",
    "parcel__last_event_at",
    "parcel__status",
    "parcel__order__order_id",
    "parcel__order__dest_province",
    "parcel__order__dest_city",
    "compensation_estimate",
)


def stalled_parcels_export(*, queryset: QuerySet[Alert]):
    """The rows of the CSV export, streamed from the database in chunks (no list of a million rows)."""
    return queryset.values_list(*STALLED_CSV_COLUMNS).iterator(chunk_size=2000)

