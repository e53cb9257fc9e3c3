"""Shop indicators and courier-outlet scorecards: every figure is one SQL aggregate.

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

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from fulfillment.models import VALID_NODE_CODES, CarrierOutlet, Parcel, Shop, TrackingEvent
from monitoring.selectors.common import shop_timezone

PICKUP_HOURS = 48
UPDATE_HOURS = 24
CHART_DAYS = 14

# The platforms' targets for the two rates, as fractions. Chosen from the platforms' merchant rules
# (Tmall holds Mall sellers to the strictest logistics timeliness); edit here when a platform changes them.
PLATFORM_TARGETS: dict[str, dict[str, Decimal]] = {
    "tmall": {"pickup_rate": Decimal("0.95"), "update_rate": Decimal("0.95")},
    "taobao": {"pickup_rate": Decimal("0.90"), "update_rate": Decimal("0.90")},
    "lazada": {"pickup_rate": Decimal("0.95"), "update_rate": Decimal("0.90")},
}


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
    rating_month: datetime.date | None = None  # the month of the imported Cainiao index rating
    outlet: CarrierOutlet | None = None

    # A rate is judged against its target (coloured) only once this share of its parcels is decided:
    # "100 %" of 3 decided parcels out of 66 says nothing yet about the day.
    CONCLUSIVE_SHARE = Decimal("0.8")

    @property
    def pickup_conclusive(self) -> bool:
        return bool(self.paid) and self.pickup_decided >= self.CONCLUSIVE_SHARE * self.paid

    @property
    def update_conclusive(self) -> bool:
        return bool(self.picked_up) and self.update_decided >= self.CONCLUSIVE_SHARE * self.picked_up

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
    no_outlet: RateRow  # the parcels with no outlet yet: with the outlets' rows, they add up to the shop
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

    The cohort is the shop's parcels paid in the period, as for the shop indicators. A parcel counts for
    its outlet (the e-waybill outlet, else its earliest event's) from payment, picked up or not, as
    Cainiao counts every parcel assigned to the outlet; the parcels with no outlet yet form their own
    row (`no_outlet`), so the outlets' rows add up to the shop's.
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
        row.rating_month = row.outlet.rating_month if row.outlet.star_rating else None
        row.label = str(row.outlet)
    return Scorecards(
        shop=shop,
        date_from=date_from,
        date_to=date_to,
        outlets=scored,
        no_outlet=rows.get(None) or RateRow(None),
        outlet_count=outlet_count,
        shop_total=shop_total,
        targets=PLATFORM_TARGETS.get(shop.platform, {}),
    )
