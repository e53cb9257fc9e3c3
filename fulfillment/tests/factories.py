import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from fulfillment.models import (
    Carrier,
    CarrierOutlet,
    EventCode,
    Holiday,
    Order,
    Parcel,
    ParcelStatus,
    Platform,
    Region,
    SellerTier,
    Shop,
    TrackingEvent,
)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    platform = Platform.TMALL
    seller_tier = SellerTier.MALL
    pickup_address = "浙江省杭州市余杭区文一西路 969 号"
    pickup_province = "浙江省"
    pickup_city = "杭州市"


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = factory.Iterator(["YTO", "ZTO", "STO", "YUNDA", "SF"])
    name = factory.LazyAttribute(lambda o: o.code)


class CarrierOutletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierOutlet

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"OUT{n:04d}")
    name = factory.Sequence(lambda n: f"网点 {n}")
    province = "浙江省"
    city = "杭州市"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    shop = factory.SubFactory(ShopFactory)
    platform = factory.LazyAttribute(lambda o: o.shop.platform)
    seller_tier = factory.LazyAttribute(lambda o: o.shop.seller_tier)
    order_id = factory.Sequence(lambda n: f"{2026_0000_0000 + n}")
    paid_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    amount = Decimal("199.00")
    origin_province = "浙江省"
    dest_province = "广东省"
    dest_city = "深圳市"


class ParcelFactory(factory.django.DjangoModelFactory):
    """A parcel of its own order; `shipped=True` gives it a carrier and a tracking number."""

    class Meta:
        model = Parcel

    class Params:
        shipped = factory.Trait(
            carrier=factory.SubFactory(CarrierFactory),
            tracking_no=factory.Sequence(lambda n: f"YT{7000000000 + n}"),
            shipped_at=factory.LazyAttribute(lambda o: o.paid_at + datetime.timedelta(hours=2)),
            status=ParcelStatus.SHIPPED,
        )
        ready = factory.Trait(
            shipped=True,
            rts_at=factory.LazyAttribute(lambda o: o.paid_at + datetime.timedelta(hours=3)),
            status=ParcelStatus.READY_TO_SHIP,
        )
        picked_up = factory.Trait(
            ready=True,
            picked_up_at=factory.LazyAttribute(lambda o: o.paid_at + datetime.timedelta(hours=6)),
            last_event_at=factory.LazyAttribute(lambda o: o.paid_at + datetime.timedelta(hours=6)),
            status=ParcelStatus.PICKED_UP,
        )

    order = factory.SubFactory(OrderFactory)
    shop = factory.LazyAttribute(lambda o: o.order.shop)
    platform = factory.LazyAttribute(lambda o: o.order.platform)
    paid_at = factory.LazyAttribute(lambda o: o.order.paid_at)
    weight_kg = Decimal("0.800")
    declared_value = factory.LazyAttribute(lambda o: o.order.amount)


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    parcel = factory.SubFactory(ParcelFactory, shipped=True)
    code = EventCode.IN_TRANSIT
    occurred_at = factory.LazyFunction(timezone.now)
    location = "杭州转运中心"
    description = "快件已发往下一站"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("province", "city")

    province = "西藏自治区"
    city = ""
    is_remote = True


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday
        django_get_or_create = ("date",)

    date = datetime.date(2026, 10, 1)
    is_working_day = False
    name = "National Day"


class EventArchiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "fulfillment.EventArchive"

    month = factory.Sequence(lambda n: datetime.date(2020 + n // 12, n % 12 + 1, 1))
    path = factory.LazyAttribute(lambda o: f"/var/archive/events-{o.month:%Y-%m}.jsonl.gz")
    events = 1000
