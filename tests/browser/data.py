"""A small but true-looking data set for the dashboards: two shops, three courier outlets, 14 days."""

import datetime
import random
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone

from fulfillment.models import EventCode, Platform
from fulfillment.tests.factories import (
    CarrierFactory,
    CarrierOutletFactory,
    OrderFactory,
    ParcelFactory,
    RegionFactory,
    ShopFactory,
    TrackingEventFactory,
)
from monitoring.models import Alert, AlertKind, AlertLevel
from monitoring.tests.factories import AlertFactory

MANAGER = ("manager", "manager-pass-123")
CLERK = ("clerk", "clerk-pass-123")


def make_user(credentials, group: str) -> User:
    user = User.objects.create_user(credentials[0], password=credentials[1], is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def build_dashboard_data(*, days: int = 14, per_day: int = 6, seed: int = 7) -> dict:
    rng = random.Random(seed)
    waybills = random.Random(seed + 1)  # its own stream: the other draws stay as they were
    now = timezone.now()
    rated = (now.date().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # last month's index
    RegionFactory(province="西藏自治区", city="", is_remote=True)
    flagship = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    outlet_shop = ShopFactory(code="yw-outlet", name="义乌折扣店", platform=Platform.TAOBAO)
    yto, zto = CarrierFactory(code="YTO", name="圆通速递"), CarrierFactory(code="ZTO", name="中通快递")
    outlets = [
        CarrierOutletFactory(carrier=yto, code="YTO-HZ-YH", name="余杭网点", star_rating=5, rating_month=rated),
        CarrierOutletFactory(carrier=yto, code="YTO-HZ-XS", name="萧山网点", star_rating=3, rating_month=rated),
        CarrierOutletFactory(carrier=zto, code="ZTO-YW-01", name="义乌北苑网点", star_rating=2, rating_month=rated),
    ]
    destinations = [("广东省", "深圳市"), ("北京市", "北京市"), ("四川省", "成都市"), ("西藏自治区", "拉萨市")]
    n = 0
    for day in range(days, 0, -1):
        for shop in (flagship, outlet_shop):
            for _ in range(per_day):
                n += 1
                paid = now - datetime.timedelta(days=day, hours=rng.uniform(0, 20))
                province, city = destinations[rng.randrange(len(destinations))]
                outlet = outlets[rng.randrange(3)] if shop is flagship else outlets[2]
                slow = outlet.star_rating <= 2 and rng.random() < 0.5
                pickup = paid + datetime.timedelta(hours=rng.uniform(50, 70) if slow else rng.uniform(3, 40))
                order = OrderFactory(
                    shop=shop, paid_at=paid, dest_province=province, dest_city=city,
                    amount=Decimal(rng.randrange(5000, 60000)) / 100,
                )
                parcel = ParcelFactory(
                    order=order, shipped=True, carrier=outlet.carrier, tracking_no=f"{outlet.carrier.code}{880000 + n}",
                    # The e-waybill names the outlet before any scan, for most parcels.
                    outlet=outlet if pickup <= now or waybills.random() < 0.7 else None,
                )
                if pickup > now:
                    continue
                TrackingEventFactory(parcel=parcel, code=EventCode.PICKED_UP, occurred_at=pickup, outlet=outlet)
                update = pickup + datetime.timedelta(hours=rng.uniform(30, 40) if slow else rng.uniform(2, 20))
                last = pickup
                if update <= now and not (day < 5 and rng.random() < 0.2):
                    TrackingEventFactory(parcel=parcel, code=EventCode.IN_TRANSIT, occurred_at=update, outlet=outlet)
                    last = update
                parcel.picked_up_at, parcel.last_event_at = pickup, last
                parcel.status = "in_transit" if last > pickup else "picked_up"
                parcel.save(update_fields=["picked_up_at", "last_event_at", "status"])
                # Alerts: raised and (mostly) resolved over the days, some still open.
                if slow or last == pickup:
                    kind = AlertKind.PICKUP_OVERDUE if slow else AlertKind.STAGNATION
                    raised = paid + datetime.timedelta(hours=40) if slow else last + datetime.timedelta(hours=64)
                    if raised > now:
                        continue
                    still_open = rng.random() < 0.5
                    AlertFactory(
                        parcel=parcel, kind=kind,
                        level=AlertLevel.OVERDUE if rng.random() < 0.6 else AlertLevel.WARNING,
                        raised_at=raised, due_at=raised + datetime.timedelta(hours=8 if still_open else 2),
                        resolved_at=None if still_open else raised + datetime.timedelta(hours=rng.uniform(2, 30)),
                        compensation_estimate=(order.amount * Decimal("0.05")).quantize(Decimal("0.01"))
                        if kind == AlertKind.PICKUP_OVERDUE else None,
                    )
    # Some parcels have two open alerts (late for pickup and stalled): still one row each.
    late = Alert.objects.filter(parcel__shop=flagship, kind=AlertKind.PICKUP_OVERDUE, resolved_at__isnull=True)
    for alert in late.order_by("pk")[:5]:
        AlertFactory(parcel=alert.parcel, kind=AlertKind.STAGNATION, level=AlertLevel.WARNING,
                     raised_at=alert.raised_at, due_at=alert.due_at + datetime.timedelta(hours=3))
    # A few alerts falling due within the next hours.
    for i in range(4):
        order = OrderFactory(shop=flagship, paid_at=now - datetime.timedelta(hours=42 - i))
        parcel = ParcelFactory(order=order, shipped=True, carrier=yto, tracking_no=f"YTO99000{i}")
        AlertFactory(
            parcel=parcel, kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.WARNING,
            raised_at=now - datetime.timedelta(hours=2 - i * 0.3), due_at=now + datetime.timedelta(hours=6 + i * 0.5),
            compensation_estimate=(order.amount * Decimal("0.05")).quantize(Decimal("0.01")),
        )
    return {"flagship": flagship, "outlet_shop": outlet_shop, "outlets": outlets}
