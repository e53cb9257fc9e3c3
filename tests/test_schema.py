"""Integrity lives in the database: the constraints reject what forms would also reject."""
import pytest
from django.db import IntegrityError, transaction

from fulfillment.tests.factories import ParcelFactory, TrackingEventFactory
from monitoring.models import AlertKind
from monitoring.tests.factories import AlertFactory

pytestmark = pytest.mark.django_db


def test_duplicate_event_is_rejected_by_the_database():
    event = TrackingEventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TrackingEventFactory(
            parcel=event.parcel, code=event.code, occurred_at=event.occurred_at, location=event.location
        )


def test_same_event_at_another_location_is_a_new_event():
    event = TrackingEventFactory()
    TrackingEventFactory(parcel=event.parcel, code=event.code, occurred_at=event.occurred_at, location="义乌分拨中心")
    assert event.parcel.events.count() == 2


def test_second_open_alert_of_the_same_kind_is_rejected():
    alert = AlertFactory(kind=AlertKind.PICKUP_OVERDUE)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(parcel=alert.parcel, kind=AlertKind.PICKUP_OVERDUE)


def test_resolved_alerts_do_not_block_a_new_open_one():
    from django.utils import timezone

    alert = AlertFactory(kind=AlertKind.PICKUP_OVERDUE, resolved_at=timezone.now())
    AlertFactory(parcel=alert.parcel, kind=AlertKind.PICKUP_OVERDUE)
    assert alert.parcel.alerts.count() == 2


def test_tracking_number_is_unique_per_carrier():
    parcel = ParcelFactory(shipped=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ParcelFactory(carrier=parcel.carrier, tracking_no=parcel.tracking_no)


def test_negative_order_amount_is_rejected():
    from fulfillment.tests.factories import OrderFactory

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(amount=-1)
