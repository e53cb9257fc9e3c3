"""The overview: open alerts by rule and level, the next ones due, the last 14 days."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from monitoring.models import Alert, AlertKind, AlertLevel, ShopAlert
from monitoring.selectors.common import ShopIds, open_alerts, shop_timezone

DUE_SOON_HOURS = 8
CHART_DAYS = 14
@dataclass
class Overview:
    by_kind: list[dict]  # {"kind", "label", "warning", "overdue", "total"} for every kind with open alerts
    total_open: int
    total_overdue: int
    due_soon: list[Alert]  # the first DUE_SOON_LIMIT alerts due in the next 8 hours
    due_soon_count: int
    compensation_at_risk: Decimal
    daily: list[dict]  # {"day", "new", "resolved"} for each of the last 14 local days, oldest first
    order_spikes: list[ShopAlert]  # the shops' unusual days not yet reviewed, latest first


DUE_SOON_LIMIT = 20
SPIKES_SHOWN = 20


def open_order_spikes(*, shop_ids: ShopIds = None) -> list[ShopAlert]:
    """Shop alerts waiting for a manager's review (monitoring.spikes), of the shops the user may see."""
    spikes = ShopAlert.objects.filter(resolved_at__isnull=True)
    if shop_ids is not None:
        spikes = spikes.filter(shop_id__in=sorted(shop_ids))
    return list(spikes.select_related("shop").order_by("-day", "shop__code")[:SPIKES_SHOWN])


def _alerts(shop_ids: ShopIds):
    alerts = Alert.objects.all()
    return alerts if shop_ids is None else alerts.filter(parcel__shop_id__in=sorted(shop_ids))


def dashboard_overview(*, now: datetime.datetime | None = None, shop_ids: ShopIds = None) -> Overview:
    """The overview of the shops `shop_ids` (None: every shop)."""
    now = now or timezone.now()
    tz = shop_timezone()

    counts: dict[str, dict[str, int]] = {}
    # COUNT(*), not COUNT(id): the partial (kind, level) index then answers alone (index-only scan).
    for row in open_alerts(shop_ids=shop_ids).values("kind", "level").annotate(n=Count("*")).order_by():
        counts.setdefault(row["kind"], {})[row["level"]] = row["n"]
    by_kind = []
    for kind, label in AlertKind.choices:
        if kind in counts:
            warning = counts[kind].get(AlertLevel.WARNING, 0)
            overdue = counts[kind].get(AlertLevel.OVERDUE, 0)
            by_kind.append(
                {"kind": kind, "label": label, "warning": warning, "overdue": overdue, "total": warning + overdue}
            )

    soon = open_alerts(shop_ids=shop_ids).filter(due_at__gt=now, due_at__lte=now + datetime.timedelta(hours=DUE_SOON_HOURS))
    due_soon = list(
        soon.select_related("parcel", "parcel__shop", "parcel__carrier").order_by("due_at", "id")[:DUE_SOON_LIMIT]
    )
    due_soon_count = len(due_soon) if len(due_soon) < DUE_SOON_LIMIT else soon.count()
    compensation = open_alerts(shop_ids=shop_ids).aggregate(total=Sum("compensation_estimate"))["total"] or Decimal("0")

    # 14 local days including today; both series grouped in SQL by the local date.
    today = timezone.localdate(now, tz)
    first_day = today - datetime.timedelta(days=CHART_DAYS - 1)
    start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=tz)
    new = dict(
        _alerts(shop_ids).filter(raised_at__gte=start)
        .annotate(day=TruncDate("raised_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", "n")
    )
    resolved = dict(
        _alerts(shop_ids).filter(resolved_at__gte=start)
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
        order_spikes=open_order_spikes(shop_ids=shop_ids),
    )

