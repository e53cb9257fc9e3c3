"""The deliveries' admin: read-only pages showing each entry's error, and the retry action."""

import json
from unittest import mock

import pytest
from django.urls import reverse

from fulfillment.models import TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import at
from live.models import PushDelivery
from live.services import push_delivery_process
from live.tests.factories import PushDeliveryFactory

pytestmark = pytest.mark.django_db

EVENT = {"carrier_code": "YTO", "tracking_no": "YT100", "code": "picked_up", "occurred_at": "2026-03-02 18:00"}


@pytest.fixture
def parcel():
    return ParcelFactory(shipped=True, carrier=CarrierFactory(code="YTO"), tracking_no="YT100",
                         order=OrderFactory(paid_at=at("2026-03-02 08:00")))


def test_the_delivery_page_lists_each_rejected_entry(admin_client, parcel):
    delivery = PushDeliveryFactory(body=json.dumps([EVENT, {**EVENT, "code": "teleported"}]))
    push_delivery_process(delivery=delivery)

    html = admin_client.get(reverse("admin:live_pushdelivery_change", args=[delivery.pk])).content.decode()

    assert "[1]" in html and "teleported" in html
    assert 'name="_save"' not in html


def test_retry_processing_action(admin_client, parcel):
    failed = PushDeliveryFactory(body=json.dumps([EVENT]))
    with mock.patch("fulfillment.importers.events.EventImporter.apply_batch", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            push_delivery_process(delivery=failed)
    done = PushDeliveryFactory(body="[]")
    push_delivery_process(delivery=done)

    response = admin_client.post(
        reverse("admin:live_pushdelivery_changelist"),
        {"action": "retry_processing", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert "1 delivery processed." in messages
    assert any("already processed" in m for m in messages)
    assert PushDelivery.objects.get(pk=failed.pk).processed_at is not None
    assert TrackingEvent.objects.count() == 1


def test_the_delivery_list_shows_the_counts(admin_client, parcel):
    delivery = PushDeliveryFactory(body=json.dumps([EVENT]))
    push_delivery_process(delivery=delivery)

    html = admin_client.get(reverse("admin:live_pushdelivery_changelist")).content.decode()

    assert "1 entry: 1 new, 0 already stored, 0 rejected" in html
