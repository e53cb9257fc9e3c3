import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from fulfillment.tests.factories import CarrierFactory, ShopFactory
from pickups.models import (
    BagItem,
    ConsolidationBag,
    HandoverItem,
    HandoverSheet,
    PickupCoverage,
    PrinterPreference,
    SortingCentre,
)


class ConsolidationBagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsolidationBag

    number = factory.Sequence(lambda n: f"BAG{n:08d}")
    shop = factory.SubFactory(ShopFactory)
    sorting_centre = SortingCentre.SZ
    gross_weight_kg = Decimal("12.50")
    length_cm = Decimal("60")
    width_cm = Decimal("40")
    height_cm = Decimal("40")


class BagItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BagItem

    bag = factory.SubFactory(ConsolidationBagFactory)
    parcel = factory.SubFactory("fulfillment.tests.factories.ParcelFactory", ready=True)


class HandoverSheetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandoverSheet

    number = factory.Sequence(lambda n: f"HS{n:08d}")
    shop = factory.SubFactory(ShopFactory)
    carrier = factory.SubFactory(CarrierFactory)
    pickup_address = factory.LazyAttribute(lambda o: o.shop.pickup_address or "浙江省杭州市余杭区文一西路 969 号")
    pickup_province = "浙江省"
    pickup_city = "杭州市"
    window_start = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=2))
    window_end = factory.LazyAttribute(lambda o: o.window_start + datetime.timedelta(hours=3))


class HandoverItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandoverItem

    sheet = factory.SubFactory(HandoverSheetFactory)
    bag = factory.SubFactory(ConsolidationBagFactory)
    parcel = None


class PickupCoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PickupCoverage
        django_get_or_create = ("province", "city")

    province = "浙江省"
    city = "杭州市"


def parcels_for(shop, n: int, **kwargs):
    """`n` ready-to-ship parcels of `shop`, each of its own order, all of one carrier (YTO unless
    `carrier=` says otherwise): a bag and a sheet travel with one carrier."""
    from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory

    kwargs.setdefault("carrier", CarrierFactory(code="YTO"))
    return [ParcelFactory(order=OrderFactory(shop=shop), ready=True, **kwargs) for _ in range(n)]


class PrinterPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrinterPreference

    user = factory.LazyFunction(lambda: get_user_model().objects.get_or_create(username="printer-user")[0])
    label_format = "thermal_100x150"
