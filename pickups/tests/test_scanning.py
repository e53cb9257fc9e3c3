"""What a scanner gun sends becomes the stored tracking number; refusals tell the clerk where the parcel is."""

import pytest

from fulfillment.models import ParcelStatus
from fulfillment.tests.factories import ShopFactory
from pickups import services
from pickups.services import ScanOutcome
from pickups.services.scanning import normalize_tracking_number, split_scanned_codes
from pickups.tests.factories import parcels_for
from pickups.tests.test_services import covered, open_bag, sealed_bag, sheet_for  # noqa: F401 (fixture)


@pytest.mark.parametrize(
    ("scanned", "number"),
    [
        ("yt7000000001", "YT7000000001"),
        ("  YT7000000001\r\n", "YT7000000001"),
        ("YT7000000001\t", "YT7000000001"),
        ("]C1YT7000000001", "YT7000000001"),  # AIM identifier, Code 128
        ("]A0*YT7000000001*", "YT7000000001"),  # AIM identifier + Code 39 start/stop
        ("*yt7000000001*", "YT7000000001"),
        ("YT 7000 0000 01", "YT7000000001"),
        ("\x02YT7000000001\x03", "YT7000000001"),  # STX/ETX framing
        ("\ufeffYT7000000001\u200b", "YT7000000001"),  # BOM, zero-width space
        ("ＹＴ７００００００００１", "YT7000000001"),  # full-width, from a Chinese input method
        ("*", ""),
        ("", ""),
    ],
)
def test_a_scanned_code_is_normalised_to_the_stored_number(scanned, number):
    assert normalize_tracking_number(scanned) == number


def test_the_scan_field_splits_lines_and_cells_but_not_spaces():
    assert split_scanned_codes("yt1\r\n]C1YT2\tYT3, yt 4\n\n*YT5*\n") == ["YT1", "YT2", "YT3", "YT4", "YT5"]



@pytest.mark.django_db
def test_a_lowercase_or_prefixed_scan_finds_the_parcel():
    shop = ShopFactory(code="acme")
    bag = open_bag(shop)
    first, second = parcels_for(shop, 2)

    results = services.bag_add_parcels(
        bag=bag, tracking_numbers=[first.tracking_no.lower() + "\r\n", f"]C1{second.tracking_no}"], by=None
    )

    assert [(r.tracking_no, r.outcome) for r in results] == [
        (first.tracking_no, ScanOutcome.ADDED),
        (second.tracking_no, ScanOutcome.ADDED),
    ]
    assert bag.items.count() == 2


@pytest.mark.django_db
def test_a_handed_over_parcel_says_its_sheet_not_already_in_bag(covered):  # noqa: F811
    shop = ShopFactory(code="acme")
    bag = sealed_bag(shop, parcels=1)
    bagged = bag.items.get().parcel
    (loose,) = parcels_for(shop, 1)
    sheet = sheet_for(shop, bags=[bag], parcels=[loose])

    in_bag, on_sheet = services.bag_add_parcels(
        bag=open_bag(shop), tracking_numbers=[bagged.tracking_no, loose.tracking_no], by=None
    )

    assert (in_bag.outcome, on_sheet.outcome) == (ScanOutcome.HANDED_OVER, ScanOutcome.HANDED_OVER)
    assert in_bag.message == f"Handed over on sheet {sheet.number}, in bag {bag.number}."
    assert "Already in bag" not in in_bag.message
    assert on_sheet.message == f"Handed over on sheet {sheet.number}."


@pytest.mark.django_db
def test_a_picked_up_parcel_on_no_sheet_is_handed_over():
    shop = ShopFactory(code="acme")
    (parcel,) = parcels_for(shop, 1, status=ParcelStatus.PICKED_UP)
    (result,) = services.bag_add_parcels(bag=open_bag(shop), tracking_numbers=[parcel.tracking_no], by=None)
    assert result.outcome == ScanOutcome.HANDED_OVER and "Already handed over" in result.message


@pytest.mark.django_db
def test_another_shops_parcel_is_refused_and_named_only_to_who_may_see_that_shop(warehouse_user):
    mine, theirs = ShopFactory(code="mine", name="Mine"), ShopFactory(code="theirs", name="Theirs")
    (foreign,) = parcels_for(theirs, 1)
    bag = open_bag(mine)

    (seen_by_all,) = services.bag_add_parcels(bag=bag, tracking_numbers=[foreign.tracking_no], by=warehouse_user)
    mine.members.add(warehouse_user)
    warehouse_user = type(warehouse_user).objects.get(pk=warehouse_user.pk)  # the shop cache lives per request
    (seen_by_limited,) = services.bag_add_parcels(bag=bag, tracking_numbers=[foreign.tracking_no], by=warehouse_user)

    assert seen_by_all.outcome == seen_by_limited.outcome == ScanOutcome.OTHER_SHOP
    assert "Theirs" in seen_by_all.message
    assert "Theirs" not in seen_by_limited.message
    assert not bag.items.exists()
