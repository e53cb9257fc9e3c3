"""Senders retry after a timeout: the same push processed twice at the same instant stores each event once."""

import json
import threading

import pytest
from django.db import connection

from fulfillment.models import Parcel, ParcelStatus, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import at
from live.models import PushDelivery
from live.services import push_delivery_process
from live.tests.factories import PushDeliveryFactory, PushSourceFactory


def events(tracking_numbers):
    return [
        {"carrier_code": "YTO", "tracking_no": number, "code": code, "occurred_at": moment, "location": "杭州市"}
        for number in tracking_numbers
        for code, moment in (("picked_up", "2026-03-02 18:00"), ("in_transit", "2026-03-03 02:00"))
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_push_processed_concurrently_stores_each_event_once():
    carrier = CarrierFactory(code="YTO")
    numbers = [f"YTC{i:03d}" for i in range(30)]
    for number in numbers:
        ParcelFactory(shipped=True, carrier=carrier, tracking_no=number, order=OrderFactory(paid_at=at("2026-03-02 08:00")))
    source = PushSourceFactory()
    body = json.dumps(events(numbers))
    deliveries = [PushDeliveryFactory(source=source, body=body) for _ in range(3)]
    start = threading.Barrier(len(deliveries))
    failures = []

    def process(delivery):
        try:
            start.wait(timeout=10)
            push_delivery_process(delivery=delivery)
        except Exception as error:  # noqa: BLE001 — collected for the assertion
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=process, args=(d,)) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert TrackingEvent.objects.count() == 60
    outcomes = [d.outcome for d in PushDelivery.objects.order_by("pk")]
    assert sum(o["inserted"] for o in outcomes) == 60
    assert all(o["inserted"] + o["unchanged"] == 60 for o in outcomes)
    assert set(Parcel.objects.values_list("status", flat=True)) == {ParcelStatus.IN_TRANSIT}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_different_pushes_over_the_same_parcels_processed_by_four_workers_never_deadlock():
    """Each push names 60 of 120 parcels, overlapping the others'. The events' foreign-key checks take
    share locks on the parcels; before each batch locked its parcels first, in id order, two batches
    holding share locks on the same parcels deadlocked upgrading them for the fold."""
    carrier = CarrierFactory(code="YTO")
    numbers = [f"YTD{i:03d}" for i in range(120)]
    for number in numbers:
        ParcelFactory(shipped=True, carrier=carrier, tracking_no=number, order=OrderFactory(paid_at=at("2026-03-02 08:00")))
    source = PushSourceFactory()
    deliveries = []
    for push in range(16):
        chosen = [numbers[(push * 37 + k * 7) % 120] for k in range(60)]
        body = [
            {"carrier_code": "YTO", "tracking_no": number, "code": "in_transit", "location": f"站{push}",
             "occurred_at": f"2026-03-03 {push:02d}:{k:02d}"}
            for k, number in enumerate(chosen)
        ]  # fmt: skip
        deliveries.append(PushDeliveryFactory(source=source, body=json.dumps(body)))
    start = threading.Barrier(4)
    failures = []

    def work(mine):
        try:
            start.wait(timeout=10)
            for delivery in mine:
                push_delivery_process(delivery=delivery)
        except Exception as error:  # noqa: BLE001 — collected for the assertion
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(deliveries[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert TrackingEvent.objects.count() == 16 * 60
    assert PushDelivery.objects.filter(processed_at__isnull=True).count() == 0
