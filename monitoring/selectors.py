"""Reads for the managers' dashboards: every figure is one SQL aggregate, never a loop over parcels.

Indicators (DESIGN.md, "Indicators"), both over the same cohort, the parcels *paid* on a day:
- 48 h pickup rate: those picked up within 48 h of payment ÷ all of them;
- 24 h update rate: those with a valid node (any event but `info`) later than the pickup and at
  most 24 h after it ÷ those picked up.
One cohort means one pass over the shop's (shop, paid_at) index range and both rates describe the
same parcels; a day's update rate fills in as its parcels get picked up.
Days and weeks (Monday to Sunday) are local dates in the shop's time zone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.timezones import shop_zone
from fulfillment.models import VALID_NODE_CODES, CarrierOutlet, Parcel, Shop, TrackingEvent
from monitoring.filters import STALLED_SORTS, StalledParcelFilter
from monitoring.models import Alert, AlertKind, AlertLevel

PICKUP_HOURS = 48
UPDATE_HOURS = 24
DUE_SOON_HOURS = 8
CHART_DAYS = 14

# The platforms' targets for the two rates, as fractions. Chosen from the platforms' merchant rules
# (Tmall holds Mall sellers to the strictest logistics timeliness); edit here when a platform changes them.
PLATFORM_TARGETS: dict[str, dict[str, Decimal]] = {
    "tmall": {"pickup_rate": Decimal("0.95"), "update_rate": Decimal("0.95")},
    "taobao": {"pickup_rate": Decimal("0.90"), "update_rate": Decimal("0.90")},
    "lazada": {"pickup_rate": Decimal("0.95"), "update_rate": Decimal("0.90")},
}


def shop_timezone(shop: Shop | None = None) -> ZoneInfo:
    return shop_zone(shop.timezone if shop is not None else None)


def open_alerts() -> QuerySet[Alert]:
    return Alert.objects.filter(resolved_at__isnull=True)


# --- Overview ---------------------------------------------------------------------------------------


@dataclass
class Overview:
    by_kind: list[dict]  # {"kind", "label", "warning", "overdue", "total"} for every kind with open alerts
    total_open: int
    total_overdue: int
    due_soon: list[Alert]  # the first DUE_SOON_LIMIT alerts due in the next 8 hours
    due_soon_count: int
    compensation_at_risk: Decimal
    daily: list[dict]  # {"day", "new", "resolved"} for each of the last 14 local days, oldest first


DUE_SOON_LIMIT = 20


def dashboard_overview(*, now: datetime.datetime | None = None) -> Overview:
    now = now or timezone.now()
    tz = shop_timezone()

    counts: dict[str, dict[str, int]] = {}
    # COUNT(*), not COUNT(id): the partial (kind, level) index then answers alone (index-only scan).
    for row in open_alerts().values("kind", "level").annotate(n=Count("*")).order_by():
        counts.setdefault(row["kind"], {})[row["level"]] = row["n"]
    by_kind = []
    for kind, label in AlertKind.choices:
        if kind in counts:
            warning = counts[kind].get(AlertLevel.WARNING, 0)
            overdue = counts[kind].get(AlertLevel.OVERDUE, 0)
            by_kind.append(
                {"kind": kind, "label": label, "warning": warning, "overdue": overdue, "total": warning + overdue}
            )

    soon = open_alerts().filter(due_at__gt=now, due_at__lte=now + datetime.timedelta(hours=DUE_SOON_HOURS))
    due_soon = list(
        soon.select_related("parcel", "parcel__shop", "parcel__carrier").order_by("due_at", "id")[:DUE_SOON_LIMIT]
    )
    due_soon_count = len(due_soon) if len(due_soon) < DUE_SOON_LIMIT else soon.count()
    compensation = open_alerts().aggregate(total=Sum("compensation_estimate"))["total"] or Decimal("0")

    # 14 local days including today; both series grouped in SQL by the local date.
    today = timezone.localdate(now, tz)
    first_day = today - datetime.timedelta(days=CHART_DAYS - 1)
    start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=tz)
    new = dict(
        Alert.objects.filter(raised_at__gte=start)
        .annotate(day=TruncDate("raised_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", "n")
    )
    resolved = dict(
        Alert.objects.filter(resolved_at__gte=start)
        .annotate(day=TruncDate("resolved_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", "n")
    )
    daily = []
    for offset in range(CHART_DAYS):
        day = first_day + datetime.timedelta(days=offset)
        daily.append({"day": day, "new": new.get(day, 0), "resolved": resolved.get(day, 0)})

    return Overview(
        by_kind=by_kind,
        total_open=sum(k["total"] for k in by_kind),
        total_overdue=sum(k["overdue"] for k in by_kind),
        due_soon=due_soon,
        due_soon_count=due_soon_count,
        compensation_at_risk=compensation,
        daily=daily,
    )


# --- Stalled and overdue parcels ----------------------------------------------------------------------


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


# --- Shop indicators and courier-outlet scorecards -----------------------------------------------------


def _period_bounds(date_from: datetime.date, date_to: datetime.date, tz) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def _picked_up_within_48h() -> Q:
    return Q(picked_up_at__isnull=False, picked_up_at__lte=F("paid_at") + datetime.timedelta(hours=PICKUP_HOURS))


def _updated_within_24h() -> Q:
    """A valid node later than the pickup and at most 24 h after it (the event index answers the Exists)."""
    node = TrackingEvent.objects.filter(
        parcel=OuterRef("pk"),
        code__in=VALID_NODE_CODES,
        occurred_at__gt=OuterRef("picked_up_at"),
        occurred_at__lte=OuterRef("picked_up_at") + datetime.timedelta(hours=UPDATE_HOURS),
    )
    # last_event_at is the latest valid node: when it is not after the pickup, no event can qualify.
    return Q(last_event_at__gt=F("picked_up_at")) & Q(Exists(node))


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def percent(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else (rate * 100).quantize(Decimal("0.1"))


@dataclass
class RateRow:
    """Both rates of a cohort. A parcel counts in a rate once its outcome is known: picked up within
    48 h, or 48 h gone by without it (`pickup_decided`); likewise 24 h after the pickup for the
    update rate. Parcels still inside their window are *pending*, neither success nor failure, so
    today's row is not shown as a collapse of the pickup rate."""

    label: object  # a date, a week's Monday, an outlet, or a text
    paid: int = 0
    picked_within_48h: int = 0
    pickup_decided: int = 0
    picked_up: int = 0
    updated_within_24h: int = 0
    update_decided: int = 0
    star_rating: int | None = None
    outlet: CarrierOutlet | None = None

    @property
    def pickup_rate(self) -> Decimal | None:
        return _rate(self.picked_within_48h, self.pickup_decided)

    @property
    def update_rate(self) -> Decimal | None:
        return _rate(self.updated_within_24h, self.update_decided)

    @property
    def pickup_pending(self) -> int:
        return self.paid - self.pickup_decided

    @property
    def update_pending(self) -> int:
        return self.picked_up - self.update_decided

    @property
    def pickup_percent(self) -> Decimal | None:
        return percent(self.pickup_rate)

    @property
    def update_percent(self) -> Decimal | None:
        return percent(self.update_rate)

    def add(self, other: RateRow) -> None:
        self.paid += other.paid
        self.picked_within_48h += other.picked_within_48h
        self.pickup_decided += other.pickup_decided
        self.picked_up += other.picked_up
        self.updated_within_24h += other.updated_within_24h
        self.update_decided += other.update_decided


@dataclass
class ShopIndicators:
    shop: Shop
    date_from: datetime.date
    date_to: datetime.date
    days: list[RateRow]
    weeks: list[RateRow]
    total: RateRow
    targets: dict[str, Decimal]

    @property
    def target_percents(self) -> dict[str, Decimal | None]:
        return {name: percent(rate) for name, rate in self.targets.items()}


def _shop_parcels(shop: Shop) -> QuerySet[Parcel]:
    return Parcel.objects.filter(shop=shop).order_by()


def _paid_cohort(shop: Shop, start, end) -> QuerySet[Parcel]:
    return _shop_parcels(shop).filter(paid_at__gte=start, paid_at__lt=end)


def _cohort_counts(now: datetime.datetime) -> dict:
    """The counts of both rates at `now`, as conditional aggregates of one GROUP BY."""
    picked_within_48h, updated_within_24h = _picked_up_within_48h(), _updated_within_24h()
    return {
        "paid": Count("id"),
        "picked_within_48h": Count("id", filter=picked_within_48h),
        "pickup_decided": Count(
            "id", filter=Q(paid_at__lte=now - datetime.timedelta(hours=PICKUP_HOURS)) | picked_within_48h
        ),
        "picked_up": Count("id", filter=Q(picked_up_at__isnull=False)),
        "updated_within_24h": Count("id", filter=updated_within_24h),
        "update_decided": Count(
            "id", filter=Q(picked_up_at__lte=now - datetime.timedelta(hours=UPDATE_HOURS)) | updated_within_24h
        ),
    }


def _rate_row(label, row: dict) -> RateRow:
    return RateRow(
        label,
        paid=row["paid"],
        picked_within_48h=row["picked_within_48h"],
        pickup_decided=row["pickup_decided"],
        picked_up=row["picked_up"],
        updated_within_24h=row["updated_within_24h"],
        update_decided=row["update_decided"],
    )


def shop_indicators(
    *, shop: Shop, date_from: datetime.date, date_to: datetime.date, now: datetime.datetime | None = None
) -> ShopIndicators:
    """Both rates per local day of payment and per week (Monday to Sunday) of the period, and over it.

    One SQL aggregate grouped by local day; the weeks and the period are sums of those day rows.
    """
    tz = shop_timezone(shop)
    start, end = _period_bounds(date_from, date_to, tz)
    by_day = {
        row["day"]: _rate_row(row["day"], row)
        for row in _paid_cohort(shop, start, end)
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values("day")
        .annotate(**_cohort_counts(now or timezone.now()))
    }

    days, weeks, total = [], {}, RateRow("total")
    day = date_from
    while day <= date_to:
        row = by_day.get(day, RateRow(day))
        days.append(row)
        monday = day - datetime.timedelta(days=day.weekday())
        weeks.setdefault(monday, RateRow(monday)).add(row)
        total.add(row)
        day += datetime.timedelta(days=1)
    return ShopIndicators(
        shop=shop,
        date_from=date_from,
        date_to=date_to,
        days=days,
        weeks=list(weeks.values()),
        total=total,
        targets=PLATFORM_TARGETS.get(shop.platform, {}),
    )


@dataclass
class Scorecards:
    shop: Shop
    date_from: datetime.date
    date_to: datetime.date
    outlets: list[RateRow]
    outlet_count: int  # all outlets with parcels in the period, shown or not
    shop_total: RateRow
    targets: dict[str, Decimal]

    @property
    def target_percents(self) -> dict[str, Decimal | None]:
        return {name: percent(rate) for name, rate in self.targets.items()}


def outlet_scorecards(
    *,
    shop: Shop,
    date_from: datetime.date,
    date_to: datetime.date,
    limit: int | None = None,
    now: datetime.datetime | None = None,
) -> Scorecards:
    """The two rates per courier outlet (the parcel's outlet) of the shop's parcels, and the shop's own.

    The cohort is the shop's parcels paid in the period, as for the shop indicators. Parcels without an
    outlet yet (not picked up) count only for the shop as a whole.
    `limit` keeps the worst outlets only (a national carrier network has thousands).
    """
    tz = shop_timezone(shop)
    start, end = _period_bounds(date_from, date_to, tz)
    rows: dict[int | None, RateRow] = {
        row["outlet"]: _rate_row(row["outlet"], row)
        for row in _paid_cohort(shop, start, end).values("outlet").annotate(**_cohort_counts(now or timezone.now()))
    }
    shop_total = RateRow("shop")
    for row in rows.values():
        shop_total.add(row)
    # Worst pickup rate first: the outlets a manager should call. Only the shown outlets are fetched.
    scored = sorted(
        (row for pk, row in rows.items() if pk is not None),
        key=lambda r: (r.pickup_rate if r.pickup_rate is not None else Decimal(2), r.label),
    )
    outlet_count = len(scored)
    if limit is not None:
        scored = scored[:limit]
    outlets = CarrierOutlet.objects.select_related("carrier").in_bulk([row.label for row in scored])
    for row in scored:
        row.outlet = outlets[row.label]
        row.star_rating = row.outlet.star_rating
        row.label = str(row.outlet)
    return Scorecards(
        shop=shop,
        date_from=date_from,
        date_to=date_to,
        outlets=scored,
        outlet_count=outlet_count,
        shop_total=shop_total,
        targets=PLATFORM_TARGETS.get(shop.platform, {}),
    )
