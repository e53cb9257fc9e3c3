"""Warehouse nodes (DESIGN.md "Inside the warehouse"): accepted, printed, picked and packed set the
parcel's own milestones (earliest of each), are no valid node for the carrier rules and never move
the status."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from fulfillment.models import VALID_NODE_CODES, Parcel, ParcelStatus, TrackingEvent
from fulfillment.parcel_state import parcels_refresh_milestones
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import at, events_file, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_parcel():
    return ParcelFactory(
        shipped=True,
        carrier=CarrierFactory(code="YTO"),
        tracking_no="YT100",
        order=OrderFactory(paid_at=at("2026-03-02 08:00")),
        shipped_at=at("2026-03-02 09:00"),
    )


def test_warehouse_nodes_set_their_milestones_and_nothing_else(tmp_path, shipped_parcel):
    path = events_file(
        tmp_path,
        "YTO,YT100,wh_accepted,2026-03-02 08:05,杭州仓,仓库接单,",
        "YTO,YT100,wh_printed,2026-03-02 09:10,杭州仓,打印面单,",
        "YTO,YT100,wh_picked,2026-03-02 10:00,杭州仓,拣货,",
        "YTO,YT100,wh_packed,2026-03-02 10:30,杭州仓,已打包,",
    )

    status, out, err = run("import_events", path)

    assert status == 0, err
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.accepted_at == at("2026-03-02 08:05")
    assert shipped_parcel.printed_at == at("2026-03-02 09:10")
    assert shipped_parcel.picked_at == at("2026-03-02 10:00")
    assert shipped_parcel.packed_at == at("2026-03-02 10:30")
    assert shipped_parcel.status == ParcelStatus.SHIPPED  # no status of their own
    assert shipped_parcel.last_event_at is None  # no valid node
    assert shipped_parcel.picked_up_at is None  # `wh_picked` is the warehouse's pick, not the courier's pickup
    assert TrackingEvent.objects.filter(parcel=shipped_parcel).count() == 4


def test_the_earliest_node_of_each_code_wins_whatever_the_order_of_arrival(tmp_path, shipped_parcel):
    run("import_events", events_file(tmp_path, "YTO,YT100,wh_picked,2026-03-02 11:00,杭州仓,拣货,"))
    late_but_earlier = events_file(
        tmp_path,
        "YTO,YT100,wh_picked,2026-03-02 10:00,杭州仓,拣货,",
        "YTO,YT100,wh_picked,2026-03-02 12:00,杭州仓,重新拣货,",
        name="second.csv",
    )
    status, _out, err = run("import_events", late_but_earlier)
    assert status == 0, err
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.picked_at == at("2026-03-02 10:00")
    # Folding every event again gives the same parcel.
    parcels_refresh_milestones(parcel_ids=[shipped_parcel.pk])
    assert Parcel.objects.get(pk=shipped_parcel.pk).picked_at == at("2026-03-02 10:00")


def test_a_warehouse_node_after_the_pickup_is_no_update_and_keeps_the_status(tmp_path, shipped_parcel):
    """The carrier rules' clocks (update, stagnation) run on the last valid node: a warehouse node
    arriving after the pickup must not reset them, and must not take the parcel backwards."""
    run("import_events", events_file(tmp_path, "YTO,YT100,picked_up,2026-03-02 18:00,杭州市余杭区,快件已揽收,"))
    shipped_parcel.refresh_from_db()
    before = (shipped_parcel.status, shipped_parcel.last_event_at, shipped_parcel.stagnation_due_at)
    assert before[0] == ParcelStatus.PICKED_UP

    path = events_file(tmp_path, "YTO,YT100,wh_packed,2026-03-02 20:00,杭州仓,已打包,", name="late.csv")
    status, _out, err = run("import_events", path)

    assert status == 0, err
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.packed_at == at("2026-03-02 20:00")
    assert (shipped_parcel.status, shipped_parcel.last_event_at, shipped_parcel.stagnation_due_at) == before
    assert shipped_parcel.update_due_at == at("2026-03-02 18:00") + datetime.timedelta(hours=24)


def test_warehouse_codes_are_not_valid_nodes():
    assert {"wh_accepted", "wh_printed", "wh_picked", "wh_packed"}.isdisjoint(VALID_NODE_CODES)
    assert "picked_up" in VALID_NODE_CODES
    assert not TrackingEvent(code="wh_packed").is_valid_node


def test_the_event_code_check_takes_warehouse_codes_and_still_refuses_others(shipped_parcel):
    """On PostgreSQL the events table is partitioned by month: the check on the parent holds for
    every partition."""
    TrackingEvent.objects.create(parcel=shipped_parcel, code="wh_packed", occurred_at=at("2026-03-02 10:30"))
    with pytest.raises(IntegrityError), transaction.atomic():
        TrackingEvent.objects.create(parcel=shipped_parcel, code="wh_boxed", occurred_at=at("2026-03-02 10:40"))
