"""Building a sheet by scanning: normalising what a scanner sends, one verdict per scan, the candidates
offered for a shop and carrier, and the pickup window a new sheet proposes."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from fulfillment.models import Parcel, Platform
from fulfillment.tests.factories import CarrierFactory, HolidayFactory, ShopFactory
from pickups import services
from pickups.selectors import (
    bags_available_for_sheet,
    handover_sheet_default_window,
    loose_parcels_available_for_sheet,
)
from pickups.services.scanning import normalize_tracking_number as normalise_scanned_code
from pickups.services.scanning import split_scanned_codes
from pickups.services.sheet_scans import handover_sheet_check_scans
from pickups.tests.factories import PickupCoverageFactory, parcels_for
from pickups.tests.test_admin import draft_sheet, weighed_bag

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def shop():
    PickupCoverageFactory(province="浙江省", city="")
    return ShopFactory(code="acme", name="Acme")


def sealed_bag(shop, **kwargs):
    return services.bag_seal(bag=weighed_bag(shop, **kwargs), by=None)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("bag2612020001", "BAG2612020001"),
        ("  BAG 2612020001\r\n", "BAG2612020001"),
        ("]C1BAG2612020001", "BAG2612020001"),
        ("*YT9100000001*", "YT9100000001"),
        ("]A0*yt9100000001*", "YT9100000001"),
        ("\ufeffYT9100000001\t", "YT9100000001"),
    ],
)
def test_a_scanned_code_is_normalised(raw, code):
    assert normalise_scanned_code(raw) == code


def test_the_scanned_codes_box_is_one_code_a_line():
    assert split_scanned_codes("bag1\r\n\n ]C1bag2 ,*YT3*;") == ["BAG1", "BAG2", "YT3"]


def test_each_scan_gets_a_verdict_a_clerk_understands(shop):
    yto = CarrierFactory(code="YTO")
    good = sealed_bag(shop)
    open_bag = weighed_bag(shop)
    zto_bag = sealed_bag(shop)
    Parcel.objects.filter(bag_item__bag=zto_bag).update(carrier=CarrierFactory(code="ZTO"))
    other_shop_bag = sealed_bag(ShopFactory(code="other"))
    on_sheet = sealed_bag(shop)
    sheet = draft_sheet(shop, [on_sheet])
    loose = parcels_for(shop, 1, carrier=yto)[0]
    codes = [
        f"]C1{good.number.lower()}",
        open_bag.number,
        zto_bag.number,
        other_shop_bag.number,
        on_sheet.number,
        f"*{loose.tracking_no}*",
        "NOPE-123",
        good.number,
    ]

    verdicts = handover_sheet_check_scans(shop=shop, carrier=yto, codes=codes)

    assert [v.outcome for v in verdicts] == [
        "added",
        "not_sealed",
        "other_carrier",
        "other_shop",
        "on_sheet",
        "added",
        "unknown",
        "duplicate",
    ]
    assert verdicts[0].bag == good and verdicts[0].code == good.number
    assert verdicts[5].parcel == loose
    messages = [v.message for v in verdicts]
    assert messages[0] == f"Bag {good.number} added (2 parcels)."
    assert messages[1] == f"Bag {open_bag.number} is Open: only sealed bags can be handed over."
    assert messages[2] == f"Bag {zto_bag.number} holds ZTO parcels; the pickup provider is YTO."
    assert messages[3] == f"Bag {other_shop_bag.number} belongs to another shop."
    assert messages[4] == f"Bag {on_sheet.number} is already on handover sheet {sheet.number}."
    assert "neither a bag number nor a tracking number" in messages[6]


def test_loose_parcels_are_refused_when_bagged_or_of_a_bag_only_channel(shop):
    yto = CarrierFactory(code="YTO")
    bag = sealed_bag(shop)
    bagged = bag.items.first().parcel
    lazada = ShopFactory(code="laz", platform=Platform.LAZADA)
    lazada_loose = parcels_for(lazada, 1, carrier=yto)[0]
    verdicts = handover_sheet_check_scans(shop=shop, carrier=yto, codes=[bagged.tracking_no])
    assert verdicts[0].outcome == "in_bag" and bag.number in verdicts[0].message
    verdicts = handover_sheet_check_scans(shop=lazada, carrier=yto, codes=[lazada_loose.tracking_no])
    assert verdicts[0].outcome == "bags_only"


def test_a_bag_of_a_shop_the_user_may_not_see_is_unknown_to_them(shop, warehouse_user):
    other = ShopFactory(code="other")
    shop.members.add(warehouse_user)
    hidden = sealed_bag(other)
    verdicts = handover_sheet_check_scans(
        shop=shop, carrier=CarrierFactory(code="YTO"), codes=[hidden.number], user=warehouse_user
    )
    assert verdicts[0].outcome == "unknown"


def test_scanning_needs_the_shop_and_the_carrier_first(shop):
    verdicts = handover_sheet_check_scans(shop=shop, carrier=None, codes=["BAG1"])
    assert verdicts[0].outcome == "choose_shop"


def test_candidates_are_the_shops_and_carriers_only(shop):
    yto, zto = CarrierFactory(code="YTO"), CarrierFactory(code="ZTO")
    mine = sealed_bag(shop)
    sealed_bag(ShopFactory(code="other"))
    weighed_bag(shop)  # open: not a candidate
    draft_sheet(shop, [sealed_bag(shop)])  # on a sheet: not a candidate
    zto_loose = parcels_for(shop, 1, carrier=zto)[0]
    yto_loose = parcels_for(shop, 1, carrier=yto)[0]

    assert list(bags_available_for_sheet(shop=shop, carrier=yto)) == [mine]
    assert list(bags_available_for_sheet(shop=shop, carrier=zto)) == []
    assert list(loose_parcels_available_for_sheet(shop=shop, carrier=yto)) == [yto_loose]
    assert list(loose_parcels_available_for_sheet(shop=shop, carrier=zto)) == [zto_loose]
    assert bags_available_for_sheet(shop=shop, carrier=yto).get().carrier_id == yto.pk


def local(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (local(2026, 12, 2, 2, 30), local(2026, 12, 2, 9, 0)),  # night: 09:00 the same working day
        (local(2026, 12, 2, 10, 20), local(2026, 12, 2, 11, 0)),  # the next full hour
        (local(2026, 12, 2, 15, 59), local(2026, 12, 2, 16, 0)),  # still ends by 18:00
        (local(2026, 12, 2, 16, 0), local(2026, 12, 3, 9, 0)),  # too late: next working day
        (local(2026, 12, 4, 17, 0), local(2026, 12, 7, 9, 0)),  # Friday evening: Monday
        (local(2026, 12, 5, 10, 0), local(2026, 12, 7, 9, 0)),  # Saturday: Monday
    ],
)
def test_the_default_pickup_window_is_two_working_hours(now, start):
    assert handover_sheet_default_window(shop=None, now=now) == (start, start + datetime.timedelta(hours=2))


def test_the_default_pickup_window_skips_holidays_and_uses_the_shops_zone():
    HolidayFactory(date=datetime.date(2026, 12, 3), is_working_day=False, name="closed")
    bangkok = ShopFactory(code="bkk", timezone="Asia/Bangkok")
    now = local(2026, 12, 2, 17, 30)  # 16:30 in Bangkok: too late there too
    start, end = handover_sheet_default_window(shop=bangkok, now=now)
    assert start == datetime.datetime(2026, 12, 4, 9, 0, tzinfo=ZoneInfo("Asia/Bangkok"))
    assert end - start == datetime.timedelta(hours=2)
