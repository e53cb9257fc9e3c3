"""What every dashboard read shares: the shop's time zone, the open alerts, the shops a user may see."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from core.timezones import shop_zone
from fulfillment.models import Shop
from monitoring.models import Alert

ShopIds = Iterable[int] | None  # the shops a user may see (fulfillment.access.shop_ids_for); None = all


def shop_timezone(shop: Shop | None = None) -> ZoneInfo:
    return shop_zone(shop.timezone if shop is not None else None)


def open_alerts(*, shop_ids: ShopIds = None) -> QuerySet[Alert]:
    alerts = Alert.objects.filter(resolved_at__isnull=True)
    if shop_ids is not None:
        alerts = alerts.filter(parcel__shop_id__in=sorted(shop_ids))
    return alerts
