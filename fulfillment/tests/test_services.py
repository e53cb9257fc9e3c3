"""Parcel services: milestones from events, ready-to-ship marking, cancellation."""

import datetime

import pytest

from fulfillment.models import EventCode, ParcelStatus
from fulfillment.services import (
    TransitionNotAllowed,
    parcel_cancel,
    parcels_mark_ready_to_ship,
    parcels_refresh_milestones,
)
from fulfillment.tests.factories import CarrierOutletFactory, ParcelFactory, TrackingEventFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
T0 = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def hours(n: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=n)


@pytest.fixture
def signals(announcements):
    return announcements


def event(parcel, code, at, **kwargs):
    return TrackingEventFactory(parcel=parcel, code=code, occurred_at=at, **kwargs)


def test_refresh_sets_first_milestones_last_node_and_status(signals):
    parcel = ParcelFactory(ready=True, paid_at=T0)
    event(parcel, EventCode.PICKED_UP, hours(8))
    event(parcel, EventCode.PICKED_UP, hours(6))
    event(parcel, EventCode.IN_TRANSIT, hours(12))
    event(parcel, EventCode.ARRIVED_SORTING_CENTRE, hours(20))
    event(parcel, EventCode.INFO, hours(30))

    assert parcels_refresh_milestones(parcel_ids=[parcel.pk]) == 1

    parcel.refresh_from_db()
    assert parcel.picked_up_at == hours(6)
    assert parcel.sorting_centre_at == hours(20)
    assert parcel.last_event_at == hours(20)  # `info` is not a valid node
    assert parcel.status == ParcelStatus.AT_SORTING_CENTRE
    assert signals.before_commit == []  # announced only once the transaction commits
    assert signals() == [("events", [parcel.pk])]


def test_refresh_keeps_an_earlier_back_dated_pickup():
    parcel = ParcelFactory(picked_up=True, paid_at=T0, picked_up_at=hours(1))
    event(parcel, EventCode.PICKED_UP, hours(9))

    parcels_refresh_milestones(parcel_ids=[parcel.pk])

    parcel.refresh_from_db()
    assert parcel.picked_up_at == hours(1)


def test_an_old_event_arriving_late_never_moves_the_status_backwards():
    parcel = ParcelFactory(ready=True, paid_at=T0)
    event(parcel, EventCode.DELIVERED, hours(50))
    parcels_refresh_milestones(parcel_ids=[parcel.pk])
    event(parcel, EventCode.IN_TRANSIT, hours(20))

    parcels_refresh_milestones(parcel_ids=[parcel.pk])

    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.DELIVERED
    assert parcel.delivered_at == hours(50) and parcel.last_event_at == hours(50)


def test_refresh_takes_the_outlet_of_the_earliest_event_naming_one():
    parcel = ParcelFactory(ready=True, paid_at=T0)
    late = CarrierOutletFactory(carrier=parcel.carrier)
    early = CarrierOutletFactory(carrier=parcel.carrier)
    event(parcel, EventCode.IN_TRANSIT, hours(10), outlet=late)
    event(parcel, EventCode.PICKED_UP, hours(5), outlet=early)
    event(parcel, EventCode.INFO, hours(1))

    parcels_refresh_milestones(parcel_ids=[parcel.pk])

    parcel.refresh_from_db()
    assert parcel.outlet == early


def test_refresh_leaves_other_parcels_alone():
    parcel, other = ParcelFactory(ready=True), ParcelFactory(ready=True)
    event(other, EventCode.PICKED_UP, hours(5))

    assert parcels_refresh_milestones(parcel_ids=[parcel.pk]) == 0

    other.refresh_from_db()
    assert other.picked_up_at is None and other.status == ParcelStatus.READY_TO_SHIP


def test_mark_ready_to_ship_skips_cancelled_and_already_marked(signals):
    shipped = ParcelFactory(shipped=True)
    ready = ParcelFactory(ready=True)
    cancelled = ParcelFactory(shipped=True, status=ParcelStatus.CANCELLED)
    picked = ParcelFactory(picked_up=True, rts_at=None)

    marked = parcels_mark_ready_to_ship(parcels=[shipped, ready, cancelled, picked], at=hours(3), by=None)

    assert sorted(marked.marked) == sorted([shipped.pk, picked.pk])
    assert {parcel.pk: why for parcel, why in marked.skipped} == {
        ready.pk: "already marked ready to ship",
        cancelled.pk: "cancelled: do not ship",
    }
    for p in (shipped, ready, cancelled, picked):
        p.refresh_from_db()
    assert (shipped.status, shipped.rts_at) == (ParcelStatus.READY_TO_SHIP, hours(3))
    assert ready.rts_at != hours(3)
    assert cancelled.rts_at is None and cancelled.status == ParcelStatus.CANCELLED
    assert picked.rts_at == hours(3) and picked.status == ParcelStatus.PICKED_UP  # never backwards
    assert signals() == [("rts", sorted([shipped.pk, picked.pk]))]


def test_cancel_before_ready_to_ship_records_who_and_why(django_user_model, signals):
    clerk = django_user_model.objects.create_user("clerk")
    parcel = ParcelFactory(shipped=True)

    parcel = parcel_cancel(parcel=parcel, by=clerk, reason="买家取消订单")

    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.CANCELLED
    assert parcel.cancelled_at is not None
    assert (parcel.cancelled_by, parcel.cancel_reason) == (clerk, "买家取消订单")
    assert signals() == [("cancelled", [parcel.pk])]


@pytest.mark.parametrize("state", [{"ready": True}, {"picked_up": True}, {"status": ParcelStatus.CANCELLED}])
def test_cancel_is_refused_once_ready_to_ship_or_already_cancelled(state):
    parcel = ParcelFactory(**state)
    status = parcel.status

    with pytest.raises(TransitionNotAllowed):
        parcel_cancel(parcel=parcel, by=None, reason="too late")

    parcel.refresh_from_db()
    assert parcel.status == status


def test_cancel_needs_a_reason():
    parcel = ParcelFactory(shipped=True)

    with pytest.raises(TransitionNotAllowed):
        parcel_cancel(parcel=parcel, by=None, reason="  ")


def test_announcements_come_in_chunks_of_at_most_5000():
    from core.db.dialect import id_chunks

    assert [len(ids) for ids in id_chunks(range(1, 12_001))] == [5000, 5000, 2000]
    assert list(id_chunks([3, 1, 3, 2])) == [[1, 2, 3]]


def test_folding_writes_each_changed_parcel_once_and_nothing_when_nothing_changed(signals):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    parcel = ParcelFactory(ready=True, paid_at=T0)
    event(parcel, EventCode.PICKED_UP, hours(6))
    event(parcel, EventCode.IN_TRANSIT, hours(9))

    with CaptureQueriesContext(connection) as first:
        parcels_refresh_milestones(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    written_at = parcel.updated_at
    parcels_refresh_milestones(parcel_ids=[parcel.pk])

    def parcel_writes(queries):
        return [q["sql"] for q in queries if q["sql"].startswith(("UPDATE fulfillment_parcel ", 'UPDATE "fulfillment_parcel" '))]

    # Milestones, back-dating and deadlines were worked out on the draft: the parcel is written once,
    # with its deadlines (monitoring's receiver ran on the draft), and not at all the second time.
    assert len(parcel_writes(first.captured_queries)) == 1
    assert parcel.picked_up_at == hours(6) and parcel.update_due_at is not None
    parcel.refresh_from_db()
    assert parcel.updated_at == written_at
    assert signals() == [("events", [parcel.pk])]  # the second refresh changed nothing: no announcement


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_fold_never_overwrites_a_concurrent_change_of_the_parcel():
    """A clerk's transaction changes a parcel while a batch folds events into it: the fold drafts the
    parcel under a row lock (`FOR NO KEY UPDATE`), so it waits for the clerk's commit, reads the committed
    row and writes the clerk's change back unharmed."""
    import threading
    import time

    from django.db import connection, transaction

    from fulfillment.models import Parcel

    parcel = ParcelFactory(paid_at=T0)
    assert parcel.status == ParcelStatus.PAID
    outlet = CarrierOutletFactory()
    event(parcel, EventCode.INFO, hours(3), outlet=outlet)  # names the parcel's outlet, moves no status
    locked = threading.Event()

    def clerk():
        try:
            with transaction.atomic():
                Parcel.objects.select_for_update().filter(pk=parcel.pk).update(
                    status=ParcelStatus.READY_TO_SHIP, rts_at=hours(1)
                )
                locked.set()
                time.sleep(1.5)  # the fold below starts meanwhile and must wait
        finally:
            connection.close()

    thread = threading.Thread(target=clerk)
    thread.start()
    assert locked.wait(10)
    parcels_refresh_milestones(parcel_ids=[parcel.pk])
    thread.join(30)

    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.READY_TO_SHIP  # a stale draft would have written `paid` back
    assert parcel.outlet == outlet  # and the fold did write the parcel


def test_mark_ready_to_ship_refuses_untracked_and_finished_parcels_whoever_calls_it():
    """The service enforces its own rule: the admin's filtering is not what protects the data."""
    untracked = ParcelFactory()
    delivered = ParcelFactory(shipped=True, status=ParcelStatus.DELIVERED)

    result = parcels_mark_ready_to_ship(parcels=[untracked, delivered], at=hours(3), by=None)

    assert result.marked == []
    assert {parcel.pk: why for parcel, why in result.skipped} == {
        untracked.pk: "no tracking number yet",
        delivered.pk: "already delivered",
    }
    untracked.refresh_from_db()
    delivered.refresh_from_db()
    assert untracked.rts_at is None and untracked.status == ParcelStatus.PAID
    assert delivered.rts_at is None and delivered.status == ParcelStatus.DELIVERED


@pytest.mark.parametrize(
    ("index", "column"), [("parcel_open_stagn_warn_idx", "stagnation_warn_at"), ("parcel_open_ship_due_idx", "ship_due_at")]
)
def test_the_unfinished_predicate_serves_its_partial_indexes(index, column):
    """One `unfinished()` for the index definition and the scan's filter: the database sees the same
    predicate and uses the partial index (SQLite: only when the constants are literally the same)."""
    from django.db import connection

    from fulfillment.models import Parcel, unfinished

    ParcelFactory(shipped=True)
    query = Parcel.objects.filter(unfinished(), **{f"{column}__lt": hours(1)}).values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            # PostgreSQL may pick any of the partial indexes: each proves the predicate implied.
            index = "parcel_open_"
    assert index in plan
