"""Unusual order volume (DESIGN.md "Inside the warehouse, and beyond the workbench"; Lazada's
risk-control advice): a shop whose paid orders in one local day reach at least 5× the median of its
previous 14 days and at least 100, outside any campaign window, raises a shop-level alert, for a
manager to review before the day's orders are marked ready to ship.

Part of every scan. The orders are counted in SQL, one GROUP BY (shop, local day) per shop time
zone over the days judged and their baseline; the median of each shop's 14 daily counts is taken
from those few rows, and the new alerts are written with one INSERT. Days without orders count as
0 in the median, but not the days before the shop's first order: a new shop's first weeks are
compared with the days it has been selling (and its very first day with nothing). The scan judges the shop's local day of `now` and the day before (so the end of a
day is judged even when no scan ran at its last minute), counting the orders paid up to `now`, so a
replay at any instant sees only what was known then. A day's alert is raised once; a later scan of
the same day updates its count.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from statistics import median

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.timezones import shop_zone
from fulfillment.calendar import end_of_day, start_of_day
from fulfillment.models import Order, Shop
from monitoring.models import OrderSpikeThreshold, ShopAlert, ShopAlertKind, SlaPolicy

DAYS_JUDGED = 2  # the local day of `now` and the one before


def spike_threshold() -> OrderSpikeThreshold | None:
    return OrderSpikeThreshold.objects.filter(is_active=True).order_by("pk").first()


def in_campaign(*, platform: str, seller_tier: str, day: datetime.date, tz, campaigns: Sequence[SlaPolicy]) -> bool:
    """The local day overlaps a campaign window of the shop's platform (and tier, when the policy names one)."""
    starts, ends = start_of_day(day, tz), end_of_day(day, tz)
    return any(
        policy.platform == platform
        and policy.seller_tier in ("", seller_tier)
        and policy.campaign_starts_at <= ends
        and policy.campaign_ends_at >= starts
        for policy in campaigns
    )


def _daily_orders(tz_name: str, *, first_day: datetime.date, now: datetime.datetime) -> dict[int, dict]:
    """{shop id: {local day: paid orders}} of the shops in this time zone, from `first_day` to `now`."""
    tz = shop_zone(tz_name)
    rows = (
        Order.objects.filter(shop__timezone=tz_name, paid_at__gte=start_of_day(first_day, tz), paid_at__lte=now)
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values("shop_id", "day")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("shop_id", "day", "n")
    )
    counts: dict[int, dict] = defaultdict(dict)
    for shop_id, day, n in rows:
        counts[shop_id][day] = n
    return counts


def _with_older_orders(counts: dict[int, dict], *, before: datetime.datetime) -> set[int]:
    """The shops among `counts` with orders paid before the counted days: their zero days count."""
    if not counts:
        return set()
    older = Order.objects.filter(shop=OuterRef("pk"), paid_at__lt=before)
    return set(Shop.objects.filter(pk__in=sorted(counts)).filter(Exists(older)).values_list("pk", flat=True))


def order_spikes(*, now: datetime.datetime) -> list[ShopAlert]:
    """The unusual days at `now` (unsaved alerts), for the days judged of every shop."""
    threshold = spike_threshold()
    if threshold is None:
        return []
    campaigns = list(SlaPolicy.objects.filter(campaign_starts_at__isnull=False, campaign_ends_at__isnull=False))
    shops = {shop.pk: shop for shop in Shop.objects.only("pk", "platform", "seller_tier", "timezone")}
    spikes = []
    for tz_name in sorted({shop.timezone for shop in shops.values()}):
        tz = shop_zone(tz_name)
        today = timezone.localdate(now, tz)
        judged = [today - datetime.timedelta(days=k) for k in range(DAYS_JUDGED)]
        first_day = judged[-1] - datetime.timedelta(days=threshold.baseline_days)
        counts = _daily_orders(tz_name, first_day=first_day, now=now)
        older = _with_older_orders(counts, before=start_of_day(first_day, tz))
        for shop_id, by_day in counts.items():
            shop = shops[shop_id]
            history_from = first_day if shop_id in older else min(by_day)
            for day in judged:
                orders = by_day.get(day, 0)
                if orders < threshold.min_orders:
                    continue
                baseline = [
                    by_day.get(day - datetime.timedelta(days=k), 0)
                    for k in range(1, threshold.baseline_days + 1)
                    if day - datetime.timedelta(days=k) >= history_from
                ]
                if not baseline:
                    continue  # the shop's first day: nothing to compare with
                middle = Decimal(str(median(baseline)))
                if orders < threshold.factor * middle:
                    continue
                if in_campaign(platform=shop.platform, seller_tier=shop.seller_tier, day=day, tz=tz, campaigns=campaigns):
                    continue
                spikes.append(
                    ShopAlert(shop_id=shop_id, kind=ShopAlertKind.ORDER_SPIKE, day=day, orders=orders, median=middle, raised_at=now)
                )
    return spikes


def order_spikes_scan(*, now: datetime.datetime) -> int:
    """Raise the unusual days not yet raised (one INSERT); an alert already raised for the day takes
    the day's new count. Returns the number of alerts raised. Runs inside the scan's transaction."""
    spikes = order_spikes(now=now)
    if not spikes:
        return 0
    days = {spike.day for spike in spikes}
    existing = {
        (alert.shop_id, alert.day): alert
        for alert in ShopAlert.objects.filter(kind=ShopAlertKind.ORDER_SPIKE, day__in=days, shop_id__in={s.shop_id for s in spikes})
    }
    new = [spike for spike in spikes if (spike.shop_id, spike.day) not in existing]
    ShopAlert.objects.bulk_create(new, ignore_conflicts=True)
    grown = []
    for spike in spikes:
        alert = existing.get((spike.shop_id, spike.day))
        if alert is not None and alert.orders < spike.orders:
            alert.orders, alert.median = spike.orders, spike.median
            grown.append(alert)
    ShopAlert.objects.bulk_update(grown, ["orders", "median"])
    return len(new)


@transaction.atomic
def shop_alert_review(*, alert: ShopAlert, by) -> bool:
    """A manager reviewed the shop's unusual day (compare-and-swap: reviewed once). True if it was open."""
    return bool(
        ShopAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=timezone.now(), resolved_by=by)
    )
