"""Reads for the pickup screens: coverage, free-pickup eligibility, bag and sheet contents."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from core.timezones import shop_zone
from fulfillment.calendar import add_working_days, is_working_day
from fulfillment.models import Carrier, Order, Parcel, ParcelStatus, Platform, Shop

from .models import (
    BagItem,
    BagStatus,
    ConsolidationBag,
    HandoverItem,
    HandoverSheet,
    LabelFormat,
    PickupCoverage,
    PrinterPreference,
)

FREE_PICKUP_MIN_ORDERS_PER_DAY = 50
FREE_PICKUP_PERIOD_DAYS = 30


def pickup_coverage_covers(*, province: str, city: str) -> bool:
    """Official pickup covers a city when its own row exists or its province has a row with an empty city."""
    province = (province or "").strip()
    city = (city or "").strip()
    if not province:
        return False
    return PickupCoverage.objects.filter(Q(province=province) & (Q(city="") | Q(city=city))).exists()


@dataclass(frozen=True)
class FreePickupEligibility:
    orders: int
    days: int
    average_per_day: Decimal
    minimum_per_day: int

    @property
    def qualifies(self) -> bool:
        # Compared on the exact count: 1,499 orders in 30 days average 49.97, shown as 50.0 but short.
        return self.orders >= self.minimum_per_day * self.days


def shop_free_pickup_eligibility(*, shop: Shop, now: datetime.datetime | None = None) -> FreePickupEligibility:
    """Free official pickup needs an average of at least 50 orders a day over the last 30 days."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=FREE_PICKUP_PERIOD_DAYS)
    orders = Order.objects.filter(shop=shop, paid_at__gte=since, paid_at__lt=now).count()
    average = (Decimal(orders) / FREE_PICKUP_PERIOD_DAYS).quantize(Decimal("0.01"))
    return FreePickupEligibility(orders, FREE_PICKUP_PERIOD_DAYS, average, FREE_PICKUP_MIN_ORDERS_PER_DAY)


def bag_parcels(*, bag: ConsolidationBag) -> QuerySet[Parcel]:
    """The parcels on a bag's list, in scanning order, with what the bag screens and exports show."""
    return (
        Parcel.objects.filter(bag_item__bag=bag)
        .select_related("order", "carrier", "bag_item__added_by")
        .order_by("bag_item__added_at", "bag_item__pk")
    )


@dataclass(frozen=True)
class BagTotals:
    parcels: int
    parcels_weight_kg: Decimal  # the known weights only


def bag_totals(*, bag: ConsolidationBag) -> BagTotals:
    """What the scan page keeps in view: how many parcels and how heavy, in one aggregate."""
    figures = BagItem.objects.filter(bag=bag).aggregate(parcels=Count("pk"), weight=Sum("parcel__weight_kg"))
    return BagTotals(figures["parcels"], figures["weight"] or Decimal("0"))


@dataclass(frozen=True)
class ParcelPlace:
    bag: ConsolidationBag | None
    sheet: HandoverSheet | None  # the active sheet it is on, loose or in its bag


def parcel_place(*, parcel: Parcel) -> ParcelPlace:
    """Where a parcel is in the pickup workflow: its bag and the handover sheet that carries it."""
    bag = ConsolidationBag.objects.filter(items__parcel=parcel).first()
    on_sheet = Q(parcel=parcel) | Q(bag=bag) if bag is not None else Q(parcel=parcel)
    item = HandoverItem.objects.filter(on_sheet, active=True).select_related("sheet").order_by("-pk").first()
    return ParcelPlace(bag, item.sheet if item is not None else None)


def bags_with_counts(queryset: QuerySet[ConsolidationBag] | None = None) -> QuerySet[ConsolidationBag]:
    queryset = ConsolidationBag.objects.all() if queryset is None else queryset
    return queryset.annotate(parcel_count=Count("items", distinct=True))


def bags_available_for_sheet(
    *, shop: Shop | None = None, carrier: Carrier | None = None, shops: QuerySet[Shop] | None = None
) -> QuerySet[ConsolidationBag]:
    """Sealed bags on no active sheet (the choice list of a new sheet), of `shop` and `carrier` when
    given, of `shops` (those the user may see) in any case; `carrier_id` is the carrier of the bag's
    parcels (a bag holds parcels of one carrier)."""
    queryset = ConsolidationBag.objects.filter(status=BagStatus.SEALED).exclude(
        Exists(HandoverItem.objects.filter(bag=OuterRef("pk"), active=True))
    )
    if shops is not None:
        queryset = queryset.filter(shop__in=shops)
    if shop is not None:
        queryset = queryset.filter(shop=shop)
    if carrier is not None:
        queryset = queryset.exclude(Exists(BagItem.objects.filter(bag=OuterRef("pk")).exclude(parcel__carrier=carrier)))
    return (
        bags_with_counts(queryset.select_related("shop"))
        .annotate(carrier_id=Min("items__parcel__carrier_id"))
        .order_by("shop__code", "number")
    )


def loose_parcels_available_for_sheet(
    *, shop: Shop | None = None, carrier: Carrier | None = None, shops: QuerySet[Shop] | None = None
) -> QuerySet[Parcel]:
    """Ready-to-ship parcels with a tracking number, in no bag and on no active sheet, of shops whose
    channel takes loose parcels (Lazada official pickup takes bags only)."""
    queryset = (
        Parcel.objects.filter(status=ParcelStatus.READY_TO_SHIP, carrier__isnull=False)
        .exclude(tracking_no="")
        .exclude(tracking_no__isnull=True)
        .exclude(shop__platform=Platform.LAZADA)
        .exclude(Exists(BagItem.objects.filter(parcel=OuterRef("pk"))))
        .exclude(Exists(HandoverItem.objects.filter(parcel=OuterRef("pk"), active=True)))
    )
    if shops is not None:
        queryset = queryset.filter(shop__in=shops)
    if shop is not None:
        queryset = queryset.filter(shop=shop)
    if carrier is not None:
        queryset = queryset.filter(carrier=carrier)
    return queryset.select_related("shop", "carrier", "order").order_by("shop__code", "tracking_no")


PICKUP_DAY_STARTS = datetime.time(9, 0)
PICKUP_DAY_ENDS = datetime.time(18, 0)
PICKUP_WINDOW = datetime.timedelta(hours=2)


def handover_sheet_default_window(
    *, shop: Shop | None = None, now: datetime.datetime | None = None
) -> tuple[datetime.datetime, datetime.datetime]:
    """The pickup window a new sheet proposes: two hours inside the working hours 09:00-18:00 of the
    shop's time zone. On a working day, from the next full hour (09:00 at the earliest) if the window
    still ends by 18:00; otherwise 09:00-11:00 of the next working day (the calendar's working days:
    weekends and holidays skipped, make-up working days kept). Agents do not come at night."""
    zone = shop_zone(shop.timezone if shop is not None else None)
    local = (now or timezone.now()).astimezone(zone)
    today = local.date()
    if is_working_day(today):
        start = local.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
        start = max(start, datetime.datetime.combine(today, PICKUP_DAY_STARTS, tzinfo=zone))
        if start + PICKUP_WINDOW <= datetime.datetime.combine(today, PICKUP_DAY_ENDS, tzinfo=zone):
            return start, start + PICKUP_WINDOW
    start = datetime.datetime.combine(add_working_days(today, 1), PICKUP_DAY_STARTS, tzinfo=zone)
    return start, start + PICKUP_WINDOW


@dataclass(frozen=True)
class SheetContents:
    bags: list[ConsolidationBag]
    loose_parcels: list[Parcel]
    bag_parcel_count: int
    total_weight_kg: Decimal

    @property
    def parcel_count(self) -> int:
        return self.bag_parcel_count + len(self.loose_parcels)


def handover_sheet_contents(*, sheet: HandoverSheet) -> SheetContents:
    """The bags (with parcel counts) and loose parcels on a sheet; a cancelled sheet shows what it held."""
    items = HandoverItem.objects.filter(sheet=sheet)
    if sheet.status != "cancelled":
        items = items.filter(active=True)
    bags = list(
        bags_with_counts(ConsolidationBag.objects.filter(pk__in=items.filter(bag__isnull=False).values("bag_id")))
        .select_related("shop")
        .order_by("number")
    )
    loose = list(
        Parcel.objects.filter(pk__in=items.filter(parcel__isnull=False).values("parcel_id"))
        .select_related("order", "carrier")
        .order_by("tracking_no")
    )
    bag_parcels_count = BagItem.objects.filter(bag__in=[b.pk for b in bags]).count()
    weight = sum((b.gross_weight_kg or Decimal(0) for b in bags), Decimal(0))
    weight += sum((p.weight_kg or Decimal(0) for p in loose), Decimal(0))
    return SheetContents(bags, loose, bag_parcels_count, weight)


def bag_weight_of_parcels(*, bag: ConsolidationBag) -> Decimal:
    return BagItem.objects.filter(bag=bag).aggregate(w=Sum("parcel__weight_kg"))["w"] or Decimal(0)


def label_format_for(user, override: str | None = None) -> str:
    """The format to print in: `override` (the print URL's `?format=`) when it is a format, else the
    user's preference, else A4."""
    if override in LabelFormat.values:
        return override
    preference = PrinterPreference.objects.filter(user_id=getattr(user, "pk", None)).first()
    return preference.label_format if preference else LabelFormat.A4
