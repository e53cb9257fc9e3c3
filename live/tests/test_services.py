"""Processing a stored push: a failure leaves it unprocessed with the reason, a retry applies it once."""

import io
import json
from unittest import mock

import pytest
from django.core.management import call_command

from core.errors import TransitionNotAllowed
from fulfillment.models import ParcelStatus, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import at
from live.models import PushDelivery
from live.services import push_deliveries_retry, push_delivery_process
from live.tests.factories import PushDeliveryFactory, PushSourceFactory
from live.tests.pushes import post_generic

pytestmark = pytest.mark.django_db

EVENT = {
    "carrier_code": "YTO",
    "tracking_no": "YT100",
    "code": "picked_up",
    "occurred_at": "2026-03-02 18:00",
    "location": "杭州市",
    "description": "快件已揽收",
    "outlet_code": "",
}


@pytest.fixture
def parcel():
    return ParcelFactory(
        shipped=True,
        carrier=CarrierFactory(code="YTO"),
        tracking_no="YT100",
        order=OrderFactory(paid_at=at("2026-03-02 08:00")),
    )


def failing_apply():
    return mock.patch(
        "fulfillment.importers.events.EventImporter.apply_batch", side_effect=RuntimeError("database went away")
    )


def test_a_failed_processing_is_kept_unprocessed_then_retried_from_the_stored_body(client, parcel):
    source = PushSourceFactory()
    with failing_apply():
        response = post_generic(client, source, [EVENT])

    assert response.status_code == 202  # stored: the sender need not push again
    delivery = PushDelivery.objects.get()
    assert delivery.verified and delivery.processed_at is None
    assert delivery.outcome == {"failure": "RuntimeError: database went away", "attempts": 1}
    assert not TrackingEvent.objects.exists()

    assert push_deliveries_retry() == (1, 0)

    delivery.refresh_from_db()
    assert delivery.processed_at is not None and delivery.outcome["inserted"] == 1
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.PICKED_UP
    assert push_deliveries_retry() == (0, 0)  # nothing left, nothing stored twice
    assert TrackingEvent.objects.count() == 1


def test_each_failed_attempt_is_counted(parcel):
    delivery = PushDeliveryFactory(body=json.dumps([EVENT]))
    with failing_apply():
        assert push_deliveries_retry() == (0, 1)
        assert push_deliveries_retry() == (0, 1)
    delivery.refresh_from_db()
    assert delivery.outcome["attempts"] == 2


def test_processing_twice_applies_once(parcel):
    delivery = PushDeliveryFactory(body=json.dumps([EVENT]))
    first = push_delivery_process(delivery=delivery)
    again = push_delivery_process(delivery=delivery)
    assert again.processed_at == first.processed_at
    assert TrackingEvent.objects.count() == 1


def test_an_unverified_delivery_is_never_processed(parcel):
    delivery = PushDeliveryFactory(body=json.dumps([EVENT]), verified=False)
    with pytest.raises(TransitionNotAllowed):
        push_delivery_process(delivery=delivery)
    assert push_deliveries_retry() == (0, 0)
    assert not TrackingEvent.objects.exists()


def test_process_pushes_command(parcel):
    PushDeliveryFactory(body=json.dumps([EVENT]))
    out = io.StringIO()
    call_command("process_pushes", "--older-than", "0", stdout=out)
    assert "1 processed, 0 failed again" in out.getvalue()
    assert TrackingEvent.objects.count() == 1


def test_process_pushes_leaves_fresh_deliveries_to_their_worker(parcel):
    PushDeliveryFactory(body=json.dumps([EVENT]))
    out = io.StringIO()
    call_command("process_pushes", stdout=out)  # default: only those older than 60 s
    assert "0 processed" in out.getvalue()


def test_process_pushes_answers_help():
    with pytest.raises(SystemExit) as done:
        call_command("process_pushes", "--help", stdout=io.StringIO())
    assert done.value.code == 0
