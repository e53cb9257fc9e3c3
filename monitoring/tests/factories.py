import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from fulfillment.tests.factories import ParcelFactory, ShopFactory
from monitoring.models import Alert, AlertKind, AlertLevel, Complaint, RouteStandard, ShopAlert, StagnationTicket


class RouteStandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RouteStandard
        django_get_or_create = ("origin_province", "dest_province")

    origin_province = "浙江省"
    dest_province = "广东省"
    days = 2


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    parcel = factory.SubFactory(ParcelFactory, shipped=True)
    kind = AlertKind.PICKUP_OVERDUE
    level = AlertLevel.WARNING
    raised_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.raised_at + datetime.timedelta(hours=8))


class StagnationTicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StagnationTicket

    parcel = factory.SubFactory(ParcelFactory, picked_up=True)
    opened_at = factory.LazyFunction(timezone.now)
    response_warn_at = factory.LazyAttribute(lambda o: o.opened_at + datetime.timedelta(hours=16))
    response_due_at = factory.LazyAttribute(lambda o: o.opened_at + datetime.timedelta(hours=24))


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    parcel = factory.SubFactory(ParcelFactory, picked_up=True)
    opened_at = factory.LazyFunction(timezone.now)


class ShopAlertFactory(factory.django.DjangoModelFactory):
    """An unusual day of orders (monitoring.spikes): 412 paid orders against a median of 31.5."""

    class Meta:
        model = ShopAlert

    shop = factory.SubFactory(ShopFactory)
    day = datetime.date(2026, 3, 20)
    orders = 412
    median = Decimal("31.5")
    raised_at = factory.LazyFunction(timezone.now)
