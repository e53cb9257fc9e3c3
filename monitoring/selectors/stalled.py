"""The stalled and overdue list: one row per parcel with its open alerts, counts per rule and level.

As Cainiao's package monitoring (包裹监控) shows it: a count per rule and state (即将超时 = warning,
已超时 = overdue) that filters the list, a total, and each parcel once. A row is the parcel's
*leading* alert — of its open alerts that match the filters, the one due first — so that sorting and
paging stay on the alerts' indexes; the parcel's other open alerts are fetched for the page only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from core.db.dialect import estimated_query_cost
from fulfillment.models import CarrierOutlet, Parcel, Shop
from monitoring.filters import STALLED_SORTS, StalledParcelFilter
from monitoring.models import Alert, AlertKind, AlertLevel
from monitoring.selectors.common import ShopIds, open_alerts

ROW_RELATIONS = ("parcel", "parcel__shop", "parcel__carrier", "parcel__outlet", "parcel__outlet__carrier", "parcel__order")
# An alert without a deadline (a complaint to settle) leads only when its parcel has no other.
NO_DEADLINE = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)
# Up to this many matching alerts the parcels are counted exactly; beyond, estimated from a sample.
EXACT_TOTAL_LIMIT = 20_000
TOTAL_SAMPLE = 500
# With a filter on the parcel, alerts are counted per rule and level when the planner expects the
# count to cost at most this (its cost units: ~1 per page read); beyond, the counts are estimated.
EXACT_COUNT_COST = 20_000


def _shops(shop_ids: ShopIds):
    return None if shop_ids is None else Shop.objects.filter(pk__in=sorted(shop_ids))


def _due_key():
    return Coalesce("due_at", Value(NO_DEADLINE))


def one_row_per_parcel(alerts: QuerySet[Alert], conditions: Q) -> QuerySet[Alert]:
    """Of each parcel's alerts in `alerts`, only the leading one: no other open alert of the parcel
    meeting `conditions` is due earlier (or, due at the same instant, has a smaller id)."""
    earlier = (
        open_alerts()
        .filter(conditions, parcel=OuterRef("parcel_id"))
        .annotate(due_key=_due_key())
        .filter(Q(due_key__lt=OuterRef("due_key")) | Q(due_key=OuterRef("due_key"), pk__lt=OuterRef("pk")))
    )
    return alerts.annotate(due_key=_due_key()).filter(~Exists(earlier))


def stalled_parcels(
    *, data, now: datetime.datetime | None = None, shop_ids: ShopIds = None
) -> tuple[StalledParcelFilter, QuerySet[Alert]]:
    """One row per parcel with open alerts matching `data` (a QueryDict), sorted by `data["sort"]`
    (default: soonest due first), of the shops `shop_ids` only (None: every shop).

    Returns the bound FilterSet (for the form) and the rows: each parcel's leading alert. An invalid
    filter value (a shop not visible, a level that does not exist) gives no rows, never a wider
    result: the form shows the error, and the export refuses it.
    """
    base = open_alerts(shop_ids=shop_ids).select_related(*ROW_RELATIONS)
    filterset = StalledParcelFilter(data, queryset=base, now=now, shops=_shops(shop_ids))
    if not filterset.is_valid():
        return filterset, base.none()
    queryset = one_row_per_parcel(filterset.qs, filterset.alert_conditions())
    return filterset, queryset.order_by(*stalled_ordering(data.get("sort")))


@dataclass
class RuleCount:
    kind: str
    label: str
    warning: int
    overdue: int
    estimated: bool = False

    @property
    def total(self) -> int:
        return self.warning + self.overdue


def _counts_by_kind_level(alerts: QuerySet[Alert]) -> dict[tuple[str, str], int]:
    return {(r["kind"], r["level"]): r["n"] for r in alerts.values("kind", "level").annotate(n=Count("*")).order_by()}


def stalled_counts(*, data, now: datetime.datetime | None = None, shop_ids: ShopIds = None) -> list[RuleCount]:
    """Open alerts per rule and level under the filters of `data` except rule and level (the tabs
    choose those).

    Without a filter on the parcel it is one GROUP BY over the (kind, level) index of the open
    alerts. A filter on the parcel (a shop, an outlet, hours since the last node, …) joins the
    parcels: when the planner expects that to cost more than EXACT_COUNT_COST, the counts are estimated
    (the planner's rows, shared out as all open alerts are among rules and levels), as the admin
    estimates its big tables instead of counting them.
    """
    rest = data.copy()
    for name in ("kind", "level", "page", "sort", "format"):
        rest.pop(name, None)
    filterset = StalledParcelFilter(rest, queryset=open_alerts(shop_ids=shop_ids), now=now, shops=_shops(shop_ids))
    if not filterset.is_valid():
        return []
    estimated = False
    if shop_ids is not None or filterset.narrows_parcels():
        plan = estimated_query_cost(filterset.qs.order_by())
        if plan is not None and plan[1] > EXACT_COUNT_COST:
            expected = plan[0]
            everywhere = _counts_by_kind_level(open_alerts())
            share = expected / max(sum(everywhere.values()), 1)
            counts = {key: round(n * share) for key, n in everywhere.items()}
            estimated = True
    if not estimated:
        counts = _counts_by_kind_level(filterset.qs)
    kinds = {kind for kind, _level in counts}
    return [
        RuleCount(kind, str(label), counts.get((kind, AlertLevel.WARNING), 0), counts.get((kind, AlertLevel.OVERDUE), 0),
                  estimated)
        for kind, label in AlertKind.choices
        if kind in kinds
    ]


@dataclass
class Total:
    parcels: int
    alerts: int
    estimated: bool


def stalled_total(*, rows: QuerySet[Alert], counts: list[RuleCount], conditions: Q, kind: str = "",
                  level: str = "") -> Total:
    """How many parcels the list holds. The matching alerts come from the tab counts. Within one rule
    they are the parcels (at most one open alert per parcel and rule); up to EXACT_TOTAL_LIMIT alerts
    the parcels are counted; beyond, or when the counts are estimates, the parcels are estimated from
    the alerts per parcel of the first TOTAL_SAMPLE rows."""
    alerts = sum(
        (c.warning if level != AlertLevel.OVERDUE else 0) + (c.overdue if level != AlertLevel.WARNING else 0)
        for c in counts
        if not kind or c.kind == kind
    )
    estimated = any(c.estimated for c in counts)
    if kind or not alerts:
        return Total(parcels=alerts, alerts=alerts, estimated=estimated)
    if alerts <= EXACT_TOTAL_LIMIT and not estimated:
        return Total(parcels=rows.order_by().count(), alerts=alerts, estimated=False)
    sample = open_alerts().filter(conditions)
    sampled = list(one_row_per_parcel(sample, conditions).order_by("due_at", "id").values_list("parcel_id", flat=True)[
        :TOTAL_SAMPLE
    ])
    per_parcel = sample.filter(parcel_id__in=sampled).count() / max(len(sampled), 1)
    return Total(parcels=int(round(alerts / max(per_parcel, 1.0), -1)), alerts=alerts, estimated=True)


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


def open_alerts_of(parcel_ids: Iterable[int]) -> dict[int, list[Alert]]:
    """Every open alert of these parcels (a page's, or a chunk of the export's), due first."""
    alerts: dict[int, list[Alert]] = {}
    for alert in open_alerts().filter(parcel_id__in=sorted(set(parcel_ids))).order_by("due_at", "id"):
        alerts.setdefault(alert.parcel_id, []).append(alert)
    return alerts


def with_open_alerts(rows: list[Alert]) -> list[Alert]:
    """The page's rows, each with `open_alerts`: all open alerts of its parcel (one query)."""
    alerts = open_alerts_of(row.parcel_id for row in rows)
    for row in rows:
        row.open_alerts = alerts.get(row.parcel_id, [row])
        row.other_alerts = [a for a in row.open_alerts if a.pk != row.pk]
    return rows


OUTLET_NAMES_OFFERED = 200


def outlet_names(*, shop_ids: ShopIds = None) -> list[str]:
    """Names the outlet search box suggests (the browser narrows them as the manager types); for a
    user limited to shops, only outlets that handled a parcel of those shops."""
    outlets = CarrierOutlet.objects.exclude(name="")
    if shop_ids is not None:
        outlets = outlets.filter(Exists(Parcel.objects.filter(outlet=OuterRef("pk"), shop_id__in=sorted(shop_ids))))
    names = outlets.order_by("name").values_list("name", flat=True).distinct()
    return list(names[:OUTLET_NAMES_OFFERED])


def destination(province: str, city: str) -> str:
    """The destination once: Lazada names Bangkok as both province and city ("Bangkok Bangkok")."""
    province, city = (province or "").strip(), (city or "").strip()
    if not city or city.casefold() == province.casefold():
        return province
    if not province:
        return city
    return f"{province} {city}"


STALLED_CSV_COLUMNS = (
    "parcel_id",
    "parcel__tracking_no",
    "parcel__carrier__code",
    "parcel__shop__code",
    "parcel__platform",
    "parcel__outlet__code",
    "parcel__outlet__name",
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
EXPORT_CHUNK = 2000


def stalled_parcels_export(*, queryset: QuerySet[Alert]) -> Iterator[tuple[dict, list[Alert]]]:
    """The export's rows — the list's rows, one per parcel — each as (its values, all open alerts of
    its parcel); streamed in chunks (no list of a million rows, one extra query per chunk)."""
    chunk: list[dict] = []
    for values in queryset.values(*STALLED_CSV_COLUMNS).iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(values)
        if len(chunk) == EXPORT_CHUNK:
            yield from _with_alerts(chunk)
            chunk = []
    yield from _with_alerts(chunk)


def _with_alerts(chunk: list[dict]) -> Iterator[tuple[dict, list[Alert]]]:
    alerts = open_alerts_of(values["parcel_id"] for values in chunk) if chunk else {}
    for values in chunk:
        yield values, alerts.get(values["parcel_id"], [])
