import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone

from fulfillment.models import ParcelStatus, Platform
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory, ShopFactory
from pickups import services
from pickups.models import BagItem, BagStatus, HandoverItem, HandoverSheet, SheetStatus, Transition
from pickups.services import ScanOutcome, TransitionNotAllowed
from pickups.tests.factories import PickupCoverageFactory, parcels_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="acme")


@pytest.fixture
def covered():
    return PickupCoverageFactory(province="浙江省", city="")


@pytest.fixture
def signals(announcements):
    return announcements


def open_bag(shop, user=None, parcels=0, **kwargs):
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=user)
    for field, value in {
        "gross_weight_kg": "10",
        "length_cm": "60",
        "width_cm": "40",
        "height_cm": "40",
        **kwargs,
    }.items():
        setattr(bag, field, Decimal(value))
    bag.save()
    if parcels:
        # Light enough for the bag's gross weight: a bag never weighs less than its parcels.
        items = parcels_for(shop, parcels, weight_kg=Decimal("0.030"))
        services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in items], by=user)
    return bag


def sealed_bag(shop, user=None, parcels=2):
    bag = open_bag(shop, user, parcels=parcels)
    return services.bag_seal(bag=bag, by=user)


def sheet_for(shop, *, bags=(), parcels=(), user=None, city="杭州市", province="浙江省"):
    start = timezone.now() + datetime.timedelta(hours=2)
    return services.handover_sheet_create(
        shop=shop,
        carrier=CarrierFactory(code="YTO"),
        pickup_address="文一西路 969 号",
        pickup_province=province,
        pickup_city=city,
        window_start=start,
        window_end=start + datetime.timedelta(hours=3),
        bags=bags,
        parcels=parcels,
        by=user,
    )


# --------------------------------------------------------------------------- bags


def test_bag_create_numbers_the_bag_after_its_centre_and_records_who(shop, warehouse_user):
    bag = services.bag_create(shop=shop, sorting_centre="YW", by=warehouse_user)
    assert bag.number.startswith("YW") and bag.status == BagStatus.OPEN
    assert Transition.objects.get(bag=bag).by == warehouse_user


def test_bag_create_refuses_an_unknown_centre(shop):
    with pytest.raises(ValidationError):
        services.bag_create(shop=shop, sorting_centre="GZ", by=None)


def test_scanning_reports_every_kind_of_number(shop, warehouse_user, signals):
    bag = open_bag(shop, warehouse_user)
    other_bag = open_bag(shop, warehouse_user)
    good, in_other, handed, cancelled_parcel = parcels_for(shop, 4)
    services.bag_add_parcels(bag=other_bag, tracking_numbers=[in_other.tracking_no], by=warehouse_user)
    foreign = parcels_for(ShopFactory(code="rival"), 1)[0]
    cancelled_parcel.status = ParcelStatus.CANCELLED
    cancelled_parcel.save()
    handed.status = ParcelStatus.PICKED_UP
    handed.save()

    results = services.bag_add_parcels(
        bag=bag,
        tracking_numbers=[
            good.tracking_no,
            "NOPE123",
            in_other.tracking_no,
            foreign.tracking_no,
            cancelled_parcel.tracking_no,
            handed.tracking_no,
            good.tracking_no,
        ],
        by=warehouse_user,
    )

    assert [r.outcome for r in results] == [
        ScanOutcome.ADDED,
        ScanOutcome.UNKNOWN,
        ScanOutcome.IN_OTHER_BAG,
        ScanOutcome.OTHER_SHOP,
        ScanOutcome.CANCELLED,
        ScanOutcome.HANDED_OVER,
        ScanOutcome.ALREADY_IN_THIS_BAG,
    ]
    assert other_bag.number in results[2].message
    assert list(BagItem.objects.filter(bag=bag).values_list("parcel_id", flat=True)) == [good.pk]
    good.refresh_from_db()
    assert good.status == ParcelStatus.BAGGED
    assert ("bagged", [good.pk]) in signals()
    # The refused parcels are untouched.
    cancelled_parcel.refresh_from_db()
    handed.refresh_from_db()
    assert (cancelled_parcel.status, handed.status) == (ParcelStatus.CANCELLED, ParcelStatus.PICKED_UP)


def test_scanning_again_says_already_in_this_bag(shop):
    bag = open_bag(shop)
    parcel = parcels_for(shop, 1)[0]
    services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)
    (result,) = services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)
    assert result.outcome == ScanOutcome.ALREADY_IN_THIS_BAG


def test_a_parcel_loose_on_an_active_sheet_counts_as_handed_over(shop, covered):
    loose = parcels_for(shop, 1)[0]
    sheet_for(shop, parcels=[loose])
    (result,) = services.bag_add_parcels(bag=open_bag(shop), tracking_numbers=[loose.tracking_no], by=None)
    assert result.outcome == ScanOutcome.HANDED_OVER


def test_bagging_never_moves_a_status_backwards(shop):
    parcel = parcels_for(shop, 1)[0]
    bag = open_bag(shop)
    parcel.status = ParcelStatus.SHIPPED
    parcel.save()
    services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.BAGGED


def test_split_tracking_numbers_takes_scanner_lines_and_pasted_cells():
    assert services.split_tracking_numbers("YT1\r\nYT2\tYT3, YT4\n\n  YT5  ") == ["YT1", "YT2", "YT3", "YT4", "YT5"]


def test_a_parcel_taken_out_goes_back_to_ready_to_ship(shop):
    bag = open_bag(shop, parcels=1)
    parcel = bag.items.get().parcel
    services.bag_remove_parcel(bag=bag, parcel=parcel, by=None)
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.READY_TO_SHIP and not bag.items.exists()


def test_nothing_is_added_to_or_removed_from_a_sealed_bag(shop):
    bag = sealed_bag(shop)
    parcel = bag.items.first().parcel
    new = parcels_for(shop, 1)[0]
    with pytest.raises(TransitionNotAllowed, match="open bag"):
        services.bag_add_parcels(bag=bag, tracking_numbers=[new.tracking_no], by=None)
    with pytest.raises(TransitionNotAllowed, match="open bag"):
        services.bag_remove_parcel(bag=bag, parcel=parcel, by=None)


def test_seal_names_every_problem(shop):
    bag = open_bag(shop, gross_weight_kg="50.01", length_cm="120")
    with pytest.raises(TransitionNotAllowed) as refused:
        services.bag_seal(bag=bag, by=None)
    text = " ".join(refused.value.messages)
    assert "empty" in text and "50.01 kg" in text and "120" in text and "200" in text
    bag.refresh_from_db()
    assert bag.status == BagStatus.OPEN


def test_seal_at_300_parcels_and_not_at_301(shop):
    bag = open_bag(shop, parcels=300)
    services.bag_seal(bag=bag, by=None)
    bag.refresh_from_db()
    assert bag.status == BagStatus.SEALED and bag.sealed_at

    full = open_bag(shop, parcels=301)
    with pytest.raises(TransitionNotAllowed, match="301"):
        services.bag_seal(bag=full, by=None)


@pytest.mark.parametrize(
    ("dims", "ok"),
    [
        ({"gross_weight_kg": "50"}, True),
        ({"gross_weight_kg": "50.01"}, False),
        ({"length_cm": "119.9", "width_cm": "30", "height_cm": "30"}, True),
        ({"length_cm": "120", "width_cm": "30", "height_cm": "30"}, False),
        ({"length_cm": "60", "width_cm": "60", "height_cm": "60"}, True),
        ({"length_cm": "60", "width_cm": "60", "height_cm": "60.1"}, False),
    ],
)
def test_seal_limits_through_the_service(shop, dims, ok):
    bag = open_bag(shop, parcels=1, **dims)
    if ok:
        services.bag_seal(bag=bag, by=None)
    else:
        with pytest.raises(TransitionNotAllowed):
            services.bag_seal(bag=bag, by=None)
    bag.refresh_from_db()
    assert (bag.status == BagStatus.SEALED) is ok


def test_a_sealed_bag_can_be_reopened_only_off_a_sheet_and_with_a_reason(shop, covered):
    bag = sealed_bag(shop)
    with pytest.raises(ValidationError, match="reason"):
        services.bag_reopen(bag=bag, by=None, reason="  ")
    services.bag_reopen(bag=bag, by=None, reason="扫错袋")
    bag.refresh_from_db()
    assert bag.status == BagStatus.OPEN
    assert bag.transitions.filter(to_status=BagStatus.OPEN, reason="扫错袋").exists()
    services.bag_seal(bag=bag, by=None)
    sheet_for(shop, bags=[bag])
    with pytest.raises(TransitionNotAllowed):
        services.bag_reopen(bag=bag, by=None, reason="x")


# --------------------------------------------------------------------------- sheets


def test_sheet_create_hands_over_bags_and_loose_parcels(shop, covered, warehouse_user, signals):
    bag = sealed_bag(shop, parcels=2)
    loose = parcels_for(shop, 1)[0]
    sheet = sheet_for(shop, bags=[bag], parcels=[loose], user=warehouse_user)

    assert sheet.status == SheetStatus.DRAFT and sheet.number.startswith("HS")
    bag.refresh_from_db()
    assert bag.status == BagStatus.HANDED_OVER
    bagged_ids = list(bag.items.values_list("parcel_id", flat=True))
    assert set(type(loose).objects.filter(pk__in=[*bagged_ids, loose.pk]).values_list("status", flat=True)) == {
        ParcelStatus.HANDED_OVER
    }
    assert ("handed_over", sorted([*bagged_ids, loose.pk])) in signals()


def test_sheet_for_an_uncovered_city_points_to_self_delivery(shop):
    PickupCoverageFactory(province="广东省", city="深圳市")
    bag = sealed_bag(shop)
    with pytest.raises(TransitionNotAllowed) as refused:
        sheet_for(shop, bags=[bag], province="广东省", city="东莞市")
    assert "self-delivery" in " ".join(refused.value.messages)
    assert not HandoverSheet.objects.exists()
    bag.refresh_from_db()
    assert bag.status == BagStatus.SEALED


def test_a_province_row_covers_all_its_cities(shop, covered):
    sheet = sheet_for(shop, bags=[sealed_bag(shop)], city="宁波市")
    assert sheet.pk


def test_lazada_refuses_loose_parcels(covered):
    shop = ShopFactory(code="laz", platform=Platform.LAZADA)
    loose = parcels_for(shop, 1)[0]
    with pytest.raises(TransitionNotAllowed, match="Lazada official pickup takes bagged parcels only"):
        sheet_for(shop, parcels=[loose])
    # With bags it is fine.
    assert sheet_for(shop, bags=[sealed_bag(shop)]).pk


def test_sheet_refuses_open_foreign_and_taken_bags(shop, covered):
    open_one = open_bag(shop, parcels=1)
    foreign = sealed_bag(ShopFactory(code="rival"))
    taken = sealed_bag(shop)
    sheet_for(shop, bags=[taken])
    with pytest.raises(TransitionNotAllowed) as refused:
        sheet_for(shop, bags=[open_one, foreign, taken])
    text = " ".join(refused.value.messages)
    assert "only sealed bags" in text and "another shop" in text and "already on another handover sheet" in text


def test_sheet_refuses_a_bagged_parcel_as_loose(shop, covered):
    bag = open_bag(shop, parcels=1)
    parcel = bag.items.get().parcel
    with pytest.raises(TransitionNotAllowed, match="hand over the bag instead"):
        sheet_for(shop, parcels=[parcel])


def test_book_then_confirm_pickup(shop, covered, warehouse_user, signals):
    bag = sealed_bag(shop, parcels=2)
    loose = parcels_for(shop, 1)[0]
    sheet = sheet_for(shop, bags=[bag], parcels=[loose])
    services.handover_sheet_book(sheet=sheet, by=warehouse_user)
    at = timezone.now() + datetime.timedelta(minutes=2)  # the agent signs after the booking (clock tolerance)

    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=at, agent="王师傅 YT-0931", by=warehouse_user)

    sheet.refresh_from_db()
    bag.refresh_from_db()
    loose.refresh_from_db()
    assert (sheet.status, sheet.picked_up_at, sheet.pickup_agent) == (SheetStatus.PICKED_UP, at, "王师傅 YT-0931")
    assert (bag.status, bag.picked_up_at) == (BagStatus.PICKED_UP, at)
    assert (loose.status, loose.picked_up_at) == (ParcelStatus.PICKED_UP, at)
    # Bagged parcels wait for their sorting-centre inbound scan to be back-dated.
    inside = bag.items.first().parcel
    assert inside.picked_up_at is None and inside.status == ParcelStatus.HANDED_OVER
    assert any(reason == "picked_up" and loose.pk in ids for reason, ids in signals())
    assert list(sheet.transitions.values_list("to_status", flat=True)) == ["draft", "booked", "picked_up"]


def test_a_draft_is_booked_before_its_pickup_is_recorded(shop, covered):
    sheet = sheet_for(shop, bags=[sealed_bag(shop)])
    with pytest.raises(TransitionNotAllowed, match="book it"):
        services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="A")


def test_cancel_frees_bags_and_parcels_for_another_sheet(shop, covered, warehouse_user, signals):
    bag = sealed_bag(shop, parcels=2)
    loose = parcels_for(shop, 1)[0]
    sheet = sheet_for(shop, bags=[bag], parcels=[loose])
    services.handover_sheet_book(sheet=sheet, by=warehouse_user)

    services.handover_sheet_cancel(sheet=sheet, by=warehouse_user, reason="Truck broke down")

    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.CANCELLED
    assert (sheet.cancelled_by, sheet.cancel_reason) == (warehouse_user, "Truck broke down")
    assert sheet.cancelled_at is not None
    assert not HandoverItem.objects.filter(sheet=sheet, active=True).exists()
    bag.refresh_from_db()
    loose.refresh_from_db()
    assert bag.status == BagStatus.SEALED
    assert loose.status == ParcelStatus.READY_TO_SHIP
    assert set(bag.items.values_list("parcel__status", flat=True)) == {ParcelStatus.BAGGED}
    history = sheet.transitions.last()
    assert (history.to_status, history.by, history.reason) == ("cancelled", warehouse_user, "Truck broke down")
    # Free for another sheet.
    again = sheet_for(shop, bags=[bag], parcels=[loose])
    assert again.items.filter(active=True).count() == 2


def test_cancel_needs_a_reason(shop, covered):
    sheet = sheet_for(shop, bags=[sealed_bag(shop)])
    with pytest.raises(ValidationError, match="reason"):
        services.handover_sheet_cancel(sheet=sheet, by=None, reason="   ")
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.DRAFT


def test_cancel_is_refused_after_pickup(shop, covered, warehouse_user):
    bag = sealed_bag(shop)
    sheet = sheet_for(shop, bags=[bag])
    services.handover_sheet_book(sheet=sheet, by=None)
    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="王师傅")

    with pytest.raises(TransitionNotAllowed) as refused:
        services.handover_sheet_cancel(sheet=sheet, by=warehouse_user, reason="changed my mind")
    assert "王师傅 confirmed the pickup" in refused.value.messages[0]
    sheet.refresh_from_db()
    bag.refresh_from_db()
    assert (sheet.status, bag.status) == (SheetStatus.PICKED_UP, BagStatus.PICKED_UP)
    assert HandoverItem.objects.filter(sheet=sheet, active=True).count() == 1


def test_a_stale_sheet_object_cannot_cancel_a_picked_up_sheet(shop, covered):
    """The service re-reads the row under lock: an object loaded before the pickup does not help."""
    sheet = sheet_for(shop, bags=[sealed_bag(shop)])
    services.handover_sheet_book(sheet=sheet, by=None)
    stale = HandoverSheet.objects.get(pk=sheet.pk)
    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="A")
    assert stale.status == SheetStatus.BOOKED
    with pytest.raises(TransitionNotAllowed):
        services.handover_sheet_cancel(sheet=stale, by=None, reason="late")


def test_the_database_refuses_a_cancelled_sheet_with_a_pickup(shop, covered):
    from django.db import IntegrityError, transaction

    sheet = sheet_for(shop, bags=[sealed_bag(shop)])
    with pytest.raises(IntegrityError), transaction.atomic():
        HandoverSheet.objects.filter(pk=sheet.pk).update(
            status="cancelled", cancelled_at=timezone.now(), cancel_reason="x", picked_up_at=timezone.now()
        )


def test_report_lost_only_after_pickup_with_a_reason_once(shop, covered, manager_user):
    bag = sealed_bag(shop)
    with pytest.raises(TransitionNotAllowed, match="picked up"):
        services.bag_report_lost(bag=bag, by=manager_user, note="丢了")
    sheet = sheet_for(shop, bags=[bag])
    services.handover_sheet_book(sheet=sheet, by=None)
    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="A")
    with pytest.raises(ValidationError, match="reason"):
        services.bag_report_lost(bag=bag, by=manager_user, note=" ")

    services.bag_report_lost(bag=bag, by=manager_user, note="快递员说袋子在转运途中丢失")
    services.bag_report_lost(bag=bag, by=manager_user, note="again")  # idempotent: the first report stands

    bag.refresh_from_db()
    assert bag.status == BagStatus.LOST and bag.reported_lost_at is not None
    lost = bag.transitions.filter(to_status=BagStatus.LOST)
    assert [(t.from_status, t.reason) for t in lost] == [(BagStatus.PICKED_UP, "快递员说袋子在转运途中丢失")]
    assert list(type(bag).objects.filter(status=BagStatus.LOST)) == [bag]  # searchable by that status


# --------------------------------------------------------------------------- concurrency (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_cancel_and_confirm_have_exactly_one_winner():
    """Two connections race on the same booked sheet: the row lock lets one in, the other is refused."""
    PickupCoverageFactory(province="浙江省", city="")
    shop = ShopFactory(code="race")
    bag = sealed_bag(shop, parcels=2)
    loose = parcels_for(shop, 1)[0]
    sheet = sheet_for(shop, bags=[bag], parcels=[loose])
    services.handover_sheet_book(sheet=sheet, by=None)

    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def run(name, call):
        try:
            barrier.wait()
            call()
            outcomes[name] = "ok"
        except TransitionNotAllowed as error:
            outcomes[name] = error
        finally:
            close_old_connections()
            connection.close()

    at = timezone.now()
    cancel = threading.Thread(
        target=run,
        args=(
            "cancel",
            lambda: services.handover_sheet_cancel(
                sheet=HandoverSheet.objects.get(pk=sheet.pk), by=None, reason="race"
            ),
        ),
    )
    confirm = threading.Thread(
        target=run,
        args=(
            "confirm",
            lambda: services.handover_sheet_confirm_pickup(
                sheet=HandoverSheet.objects.get(pk=sheet.pk), picked_up_at=at, agent="王师傅"
            ),
        ),
    )
    for thread in (cancel, confirm):
        thread.start()
    for thread in (cancel, confirm):
        thread.join(timeout=60)

    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    assert len(winners) == 1, outcomes
    loser = "confirm" if winners == ["cancel"] else "cancel"
    assert isinstance(outcomes[loser], TransitionNotAllowed)
    assert "cannot be" in outcomes[loser].messages[0]
    sheet.refresh_from_db()
    bag.refresh_from_db()
    loose.refresh_from_db()
    if winners == ["cancel"]:
        assert (sheet.status, sheet.picked_up_at, bag.status) == (SheetStatus.CANCELLED, None, BagStatus.SEALED)
        assert loose.status == ParcelStatus.READY_TO_SHIP and loose.picked_up_at is None
        assert not HandoverItem.objects.filter(sheet=sheet, active=True).exists()
    else:
        assert (sheet.status, sheet.cancelled_at, bag.status) == (SheetStatus.PICKED_UP, None, BagStatus.PICKED_UP)
        assert loose.status == ParcelStatus.PICKED_UP and loose.picked_up_at == at
        assert HandoverItem.objects.filter(sheet=sheet, active=True).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_parcel_scanned_into_two_bags_at_once_lands_in_one():
    shop = ShopFactory(code="race2")
    first, second = open_bag(shop), open_bag(shop)
    parcel = parcels_for(shop, 1)[0]
    barrier = threading.Barrier(2)
    results = {}

    def scan(bag):
        try:
            barrier.wait()
            results[bag.number] = services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    outcomes = sorted(r.outcome for r in results.values())
    assert outcomes == sorted([ScanOutcome.ADDED, ScanOutcome.IN_OTHER_BAG])
    assert BagItem.objects.filter(parcel=parcel).count() == 1


def test_parcels_of_other_orders_are_untouched_by_a_scan(shop):
    bystander = ParcelFactory(order=OrderFactory(shop=shop), ready=True)
    bag = open_bag(shop, parcels=3)
    bystander.refresh_from_db()
    assert bystander.status == ParcelStatus.READY_TO_SHIP and bag.items.count() == 3


# --------------------------------------------------------------------------- what the workflow refuses


def test_a_bag_holds_parcels_of_one_carrier(shop):
    bag = open_bag(shop, parcels=1)  # YTO
    zto = parcels_for(shop, 1, carrier=CarrierFactory(code="ZTO"))[0]
    yto = parcels_for(shop, 1)[0]

    results = services.bag_add_parcels(bag=bag, tracking_numbers=[zto.tracking_no, yto.tracking_no], by=None)

    assert [r.outcome for r in results] == [ScanOutcome.OTHER_CARRIER, ScanOutcome.ADDED]
    assert "ZTO" in results[0].message and "YTO" in results[0].message
    assert set(bag.items.values_list("parcel__carrier__code", flat=True)) == {"YTO"}


def test_a_lazada_parcel_is_bagged_only_once_ready_to_ship():
    lazada = ShopFactory(code="lz", platform="lazada")
    bag = services.bag_create(shop=lazada, sorting_centre="SZ", by=None)
    (not_ready,) = parcels_for(lazada, 1, rts_at=None, status="shipped")
    (ready,) = parcels_for(lazada, 1)

    results = services.bag_add_parcels(bag=bag, tracking_numbers=[not_ready.tracking_no, ready.tracking_no], by=None)

    assert [r.outcome for r in results] == [ScanOutcome.NOT_READY_TO_SHIP, ScanOutcome.ADDED]
    not_ready.refresh_from_db()
    assert not_ready.status == "shipped"


def test_a_sheets_pickup_provider_carries_every_bag_and_loose_parcel(shop, covered):
    bag = sealed_bag(shop)  # YTO parcels
    zto = parcels_for(shop, 1, carrier=CarrierFactory(code="ZTO"))[0]
    start = timezone.now() + datetime.timedelta(hours=2)

    with pytest.raises(TransitionNotAllowed) as refused:
        services.handover_sheet_create(
            shop=shop,
            carrier=CarrierFactory(code="ZTO"),
            pickup_address="x",
            pickup_province="浙江省",
            pickup_city="杭州市",
            window_start=start,
            window_end=start + datetime.timedelta(hours=2),
            bags=[bag],
            parcels=[zto],
            by=None,
        )

    assert refused.value.messages == [f"Bag {bag.number} holds YTO parcels; the pickup provider is ZTO."]
    assert sheet_for(shop, bags=[bag]).status == SheetStatus.DRAFT  # with YTO as the provider it is fine


def test_a_pickup_before_the_booking_or_before_a_payment_is_refused_naming_both_times(shop, covered):
    import time_machine

    bag = sealed_bag(shop)
    sheet = services.handover_sheet_book(sheet=sheet_for(shop, bags=[bag]), by=None)
    booked = sheet.booked_at

    with pytest.raises(ValidationError, match="before the sheet was booked"):
        services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=booked - datetime.timedelta(days=12), agent="A")

    loose = parcels_for(shop, 1)[0]
    other = services.handover_sheet_book(sheet=sheet_for(shop, parcels=[loose]), by=None)
    paid = other.booked_at + datetime.timedelta(minutes=30)  # the payment time, as a later import corrected it
    type(loose).objects.filter(pk=loose.pk).update(paid_at=paid)
    with time_machine.travel(paid + datetime.timedelta(hours=1), tick=False), pytest.raises(ValidationError) as refused:
        services.handover_sheet_confirm_pickup(sheet=other, picked_up_at=paid - datetime.timedelta(minutes=10), agent="A")
    assert "before one of the sheet's parcels was paid" in refused.value.messages[0]
    assert timezone.localtime(paid).strftime("%Y-%m-%d %H:%M") in refused.value.messages[0]
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED
