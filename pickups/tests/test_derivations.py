"""Back-dating of pickup times when sorting-centre inbound scans arrive (DESIGN.md, pickup confirmation)."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment.models import EventCode, Parcel
from fulfillment.parcel_state import rederive
from fulfillment.services import parcels_refresh_milestones
from fulfillment.signals import parcels_changed
from fulfillment.tests.factories import ShopFactory, TrackingEventFactory
from pickups import services
from pickups.models import BagStatus
from pickups.tests.factories import PickupCoverageFactory, parcels_for

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def packing_time():
    """Bags are packed and sheets booked two hours before the pickup at T0; the agent's confirmation is
    recorded after it (`after_pickup`): a pickup time before the booking is refused."""
    with time_machine.travel(T0 - datetime.timedelta(hours=2), tick=False):
        yield


def after_pickup(at):
    return time_machine.travel(at + datetime.timedelta(hours=1), tick=False)


@pytest.fixture
def shop():
    PickupCoverageFactory(province="浙江省", city="")
    return ShopFactory(code="acme")


def picked_up_bag(shop, parcels=2, at=T0):
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    bag.gross_weight_kg, bag.length_cm, bag.width_cm, bag.height_cm = 10, 60, 40, 40
    bag.save()
    items = parcels_for(shop, parcels)
    services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in items], by=None)
    services.bag_seal(bag=bag, by=None)
    sheet = services.handover_sheet_create(
        shop=shop,
        carrier=items[0].carrier,
        pickup_address="x",
        pickup_province="浙江省",
        pickup_city="杭州市",
        window_start=at - datetime.timedelta(hours=1),
        window_end=at + datetime.timedelta(hours=1),
        bags=[bag],
        by=None,
    )
    services.handover_sheet_book(sheet=sheet, by=None)
    with after_pickup(at):
        services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=at, agent="王师傅")
    bag.refresh_from_db()
    return bag, items


def arrive(parcel, at):
    """The sorting centre's inbound scan at `at`, imported an hour later."""
    with after_pickup(at):
        TrackingEventFactory(parcel=parcel, code=EventCode.ARRIVED_SORTING_CENTRE, occurred_at=at, location="深圳分拨中心")
        parcels_refresh_milestones(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()


def test_a_bagged_parcel_counts_from_its_bags_pickup_once_it_arrives(shop):
    bag, (first, second) = picked_up_bag(shop)
    assert first.picked_up_at is None

    arrive(first, T0 + datetime.timedelta(hours=30))

    assert first.picked_up_at == T0
    second.refresh_from_db()
    assert second.picked_up_at is None  # not arrived yet
    bag.refresh_from_db()
    assert bag.status == BagStatus.RECEIVED and bag.received_at == T0 + datetime.timedelta(hours=30)
    assert bag.transitions.last().to_status == BagStatus.RECEIVED


def test_the_back_dated_time_survives_a_later_refresh(shop):
    bag, (parcel, _) = picked_up_bag(shop)
    arrive(parcel, T0 + datetime.timedelta(hours=30))
    # A later event of the same parcel refreshes the milestones again.
    TrackingEventFactory(parcel=parcel, code=EventCode.OUT_FOR_DELIVERY, occurred_at=T0 + datetime.timedelta(hours=40))
    parcels_refresh_milestones(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    assert parcel.picked_up_at == T0


def test_a_parcel_on_no_bags_list_counts_from_its_inbound_time(shop):
    unlisted = parcels_for(shop, 1)[0]
    inbound = T0 + datetime.timedelta(hours=20)
    arrive(unlisted, inbound)
    assert unlisted.picked_up_at == inbound


def test_an_inbound_scan_imported_before_the_pickup_confirmation_is_back_dated_at_confirmation(shop):
    bag = services.bag_create(shop=shop, sorting_centre="YW", by=None)
    bag.gross_weight_kg, bag.length_cm, bag.width_cm, bag.height_cm = 10, 60, 40, 40
    bag.save()
    (parcel,) = parcels_for(shop, 1)
    services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)
    services.bag_seal(bag=bag, by=None)
    sheet = services.handover_sheet_create(
        shop=shop,
        carrier=parcel.carrier,
        pickup_address="x",
        pickup_province="浙江省",
        pickup_city="杭州市",
        window_start=T0,
        window_end=T0 + datetime.timedelta(hours=2),
        bags=[bag],
        by=None,
    )
    services.handover_sheet_book(sheet=sheet, by=None)
    inbound = T0 + datetime.timedelta(hours=26)
    TrackingEventFactory(parcel=parcel, code=EventCode.ARRIVED_SORTING_CENTRE, occurred_at=inbound)
    parcels_refresh_milestones(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    # A parcel on a bag's list waits for its bag: not dated from the inbound scan.
    assert parcel.picked_up_at is None

    with after_pickup(T0):
        services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=T0, agent="A")

    parcel.refresh_from_db()
    bag.refresh_from_db()
    assert parcel.picked_up_at == T0
    assert bag.status == BagStatus.RECEIVED


def test_parcels_of_a_bag_not_yet_picked_up_are_not_back_dated(shop):
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    (parcel,) = parcels_for(shop, 1)
    services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)
    arrive(parcel, T0)
    assert parcel.picked_up_at is None
    bag.refresh_from_db()
    assert bag.status == BagStatus.OPEN


def test_an_existing_pickup_time_of_an_unlisted_parcel_is_kept(shop):
    (parcel,) = parcels_for(shop, 1)
    parcel.picked_up_at = T0
    parcel.save()
    arrive(parcel, T0 + datetime.timedelta(hours=5))
    assert parcel.picked_up_at == T0


def parcel_writes(queries) -> list[str]:
    table = connection.ops.quote_name(Parcel._meta.db_table)
    return [q["sql"] for q in queries if q["sql"].startswith((f"UPDATE {table} ", f"UPDATE {Parcel._meta.db_table} "))]


def test_back_dating_is_one_statement_per_rule_and_one_parcel_write(shop, django_assert_max_num_queries):
    bag, items = picked_up_bag(shop, parcels=5)
    Parcel.objects.filter(pk__in=[p.pk for p in items]).update(sorting_centre_at=timezone.now())  # arrived
    with CaptureQueriesContext(connection) as queries:
        rederive(parcel_ids=[p.pk for p in items], reason="test")
    assert set(Parcel.objects.filter(pk__in=[p.pk for p in items]).values_list("picked_up_at", flat=True)) == {T0}
    assert len(parcel_writes(queries.captured_queries)) == 1
    assert len(queries.captured_queries) <= 25


def test_a_bag_pickup_confirmation_writes_each_affected_parcel_exactly_once(shop, django_capture_on_commit_callbacks):
    """Three of the bag's parcels were scanned in before the confirmation was recorded, and a loose
    parcel rides on the same sheet: they are back-dated / picked up, their deadlines computed, and
    each is written by one UPDATE — no second write by another step."""
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    bag.gross_weight_kg, bag.length_cm, bag.width_cm, bag.height_cm = 10, 60, 40, 40
    bag.save()
    bagged = parcels_for(shop, 5)
    services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in bagged], by=None)
    services.bag_seal(bag=bag, by=None)
    loose = parcels_for(shop, 1, carrier=bagged[0].carrier)[0]
    sheet = services.handover_sheet_create(
        shop=shop,
        carrier=bagged[0].carrier,
        pickup_address="x",
        pickup_province="浙江省",
        pickup_city="杭州市",
        window_start=T0 - datetime.timedelta(hours=1),
        window_end=T0 + datetime.timedelta(hours=1),
        bags=[bag],
        parcels=[loose],
        by=None,
    )
    services.handover_sheet_book(sheet=sheet, by=None)
    arrived = bagged[:3]
    for parcel in arrived:
        arrive(parcel, T0 + datetime.timedelta(hours=30))
        assert parcel.picked_up_at is None  # the bag is not picked up yet: nothing to back-date to

    announced = []
    parcels_changed.connect(lambda sender, parcel_ids, **kw: announced.extend(parcel_ids), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            with after_pickup(T0):
                services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=T0, agent="王师傅")
    finally:
        parcels_changed.disconnect(dispatch_uid="t1")

    assert len(parcel_writes(queries.captured_queries)) == 1
    assert sorted(announced) == sorted(p.pk for p in [*arrived, loose])  # each once, nothing else
    for parcel in [*arrived, loose]:
        parcel.refresh_from_db()
        assert parcel.picked_up_at == T0
        assert parcel.update_due_at is not None  # the deadlines came in the same write
    bag.refresh_from_db()
    assert bag.status == BagStatus.RECEIVED


def test_deadlines_count_from_the_back_dated_pickup_in_the_same_write(shop):
    """Back-dating and deadlines both run on the parcel's draft: the update clock starts at the bag's pickup."""
    from monitoring.deadlines import active_policies, policy_for

    bag, (parcel, _) = picked_up_bag(shop)
    policy = policy_for(
        platform=parcel.platform, seller_tier=parcel.order.seller_tier, paid_at=parcel.paid_at, policies=active_policies()
    )

    arrive(parcel, T0 + datetime.timedelta(hours=30))

    assert parcel.picked_up_at == T0
    assert policy.update_due_hours
    assert parcel.update_due_at == T0 + datetime.timedelta(hours=policy.update_due_hours)
