"""The new-sheet page and the sheet pages as a clerk uses them: scanning, the candidates offered, the
default pickup window, one message per problem, what a refused form keeps, and shop access."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import CarrierFactory, ShopFactory
from pickups import services
from pickups.models import HandoverSheet, SheetStatus
from pickups.tests.factories import PickupCoverageFactory, parcels_for
from pickups.tests.test_admin import booked_sheet, messages_of, sheet_post, weighed_bag

pytestmark = pytest.mark.django_db

ADD = "admin:pickups_handoversheet_add"


@pytest.fixture
def shop():
    PickupCoverageFactory(province="浙江省", city="")
    return ShopFactory(code="acme", name="Acme")


def sealed_bag(shop):
    return services.bag_seal(bag=weighed_bag(shop), by=None)


def test_a_sheet_is_built_from_scanned_labels_and_tracking_numbers(warehouse_client, shop):
    first, second, not_scanned = sealed_bag(shop), sealed_bag(shop), sealed_bag(shop)
    loose = parcels_for(shop, 1)[0]
    scanned = f"]C1{first.number.lower()}\r\n{second.number}\r\n*{loose.tracking_no}*\r\n{first.number}\r\n"
    response = warehouse_client.post(reverse(ADD), sheet_post(shop, scanned_codes=scanned))
    assert response.status_code == 302, response.content.decode()[:2000]
    sheet = HandoverSheet.objects.get()
    items = sheet.items.filter(active=True)
    assert set(items.exclude(bag=None).values_list("bag__number", flat=True)) == {first.number, second.number}
    assert list(items.exclude(parcel=None).values_list("parcel__tracking_no", flat=True)) == [loose.tracking_no]
    assert not_scanned.number not in str(list(items.values_list("bag__number", flat=True)))


def test_a_refused_scan_refuses_the_sheet_says_why_once_and_keeps_what_was_typed(warehouse_client, shop):
    good = sealed_bag(shop)
    open_bag = weighed_bag(shop)
    ticked = sealed_bag(shop)
    scanned = f"{good.number}\n{open_bag.number}\n"
    data = sheet_post(shop, scanned_codes=scanned, bags=[ticked.pk], pickup_address="文一西路 1 号")
    response = warehouse_client.post(reverse(ADD), data)
    assert response.status_code == 200
    html = response.content.decode()
    refusal = f"Bag {open_bag.number} is Open: only sealed bags can be handed over."
    assert html.count(refusal) == 1  # on the scan's own line; the form's error only points to it
    assert "1 scanned code was refused (see its line under Scan)" in html
    assert not HandoverSheet.objects.exists()
    assert scanned.strip() in html  # the scanned codes box keeps its codes
    assert re.search(rf'name="bags" value="{ticked.pk}"[^>]* checked', html)  # the ticked bag stays ticked
    assert "文一西路 1 号" in html and data["window_start_1"] in html
    assert messages_of(response) == []


def test_one_message_per_problem(warehouse_client, shop):
    start = timezone.localtime() + datetime.timedelta(hours=3)
    data = sheet_post(
        shop,
        bags=[sealed_bag(shop).pk],
        window_start_0=start.strftime("%Y-%m-%d"),
        window_start_1=start.strftime("%H:%M:%S"),
        window_end_0=start.strftime("%Y-%m-%d"),
        window_end_1=(start - datetime.timedelta(hours=1)).strftime("%H:%M:%S"),
    )
    if start.hour == 0:  # an hour before midnight is yesterday: keep the test about the order only
        data["window_end_0"] = (start - datetime.timedelta(hours=1)).strftime("%Y-%m-%d")
    html = warehouse_client.post(reverse(ADD), data).content.decode()
    assert html.count("The pickup window ends before it starts.") == 1


def test_the_candidates_are_those_of_the_chosen_shop_and_carrier(warehouse_client, shop):
    yto, zto = CarrierFactory(code="YTO"), CarrierFactory(code="ZTO")
    mine = sealed_bag(shop)
    theirs = sealed_bag(ShopFactory(code="other"))
    zto_parcel = parcels_for(shop, 1, carrier=zto)[0]
    yto_parcel = parcels_for(shop, 1, carrier=yto)[0]
    html = warehouse_client.get(reverse(ADD), {"shop": shop.pk, "carrier": yto.pk}).content.decode()
    assert mine.number in html and theirs.number not in html
    assert yto_parcel.tracking_no in html and zto_parcel.tracking_no not in html
    html = warehouse_client.get(reverse(ADD), {"shop": shop.pk, "carrier": zto.pk}).content.decode()
    assert mine.number not in html and zto_parcel.tracking_no in html


def test_the_new_sheet_proposes_working_hours(warehouse_client, shop):
    night = datetime.datetime(2026, 12, 1, 18, 30, tzinfo=datetime.UTC)  # 02:30 in Shanghai, a Wednesday
    with time_machine.travel(night, tick=False):
        html = warehouse_client.get(reverse(ADD), {"shop": shop.pk}).content.decode()
    start = re.search(r'name="window_start_1"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="window_start_1"', html)
    end = re.search(r'name="window_end_1"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="window_end_1"', html)
    assert (start[1] or start[2], end[1] or end[2]) == ("09:00:00", "11:00:00")
    assert 'value="2026-12-02"' in html


def test_the_window_is_typed_and_shown_in_the_shops_time_zone(warehouse_client):
    PickupCoverageFactory(province="浙江省", city="")
    bangkok = ShopFactory(code="bkk", timezone="Asia/Bangkok")
    night = datetime.datetime(2026, 12, 1, 18, 30, tzinfo=datetime.UTC)  # 01:30 in Bangkok
    with time_machine.travel(night, tick=False):
        html = warehouse_client.get(reverse(ADD), {"shop": bangkok.pk}).content.decode()
        assert re.search(r'name="window_start_1"[^>]*value="09:00:00"|value="09:00:00"[^>]*name="window_start_1"', html)
        data = sheet_post(bangkok, bags=[sealed_bag(bangkok).pk])
        data.update(window_start_0="2026-12-02", window_start_1="09:00:00")
        data.update(window_end_0="2026-12-02", window_end_1="11:00:00")
        assert warehouse_client.post(reverse(ADD), data).status_code == 302
    sheet = HandoverSheet.objects.get()
    assert sheet.window_start == datetime.datetime(2026, 12, 2, 2, 0, tzinfo=datetime.UTC)  # 09:00 in Bangkok
    printed = warehouse_client.get(reverse("admin:pickups_handoversheet_print", args=[sheet.pk])).content.decode()
    assert "2026-12-02 09:00 – 2026-12-02 11:00" in printed


def test_the_scan_check_answers_one_verdict_per_scan(warehouse_client, shop):
    bag = sealed_bag(shop)
    url = reverse("admin:pickups_handoversheet_check_scan")
    carrier = CarrierFactory(code="YTO")
    answer = warehouse_client.get(url, {"shop": shop.pk, "carrier": carrier.pk, "code": f"]C1{bag.number}"}).json()
    assert answer == {
        "code": bag.number,
        "outcome": "added",
        "added": True,
        "message": f"Bag {bag.number} added (2 parcels).",
        "kind": "bag",
        "pk": bag.pk,
    }
    again = {"shop": shop.pk, "carrier": carrier.pk, "code": bag.number, "scanned": bag.number}
    assert warehouse_client.get(url, again).json()["outcome"] == "duplicate"


def test_a_refused_pickup_time_keeps_what_was_typed_and_says_it_once(warehouse_client, shop):
    sheet = booked_sheet(shop)
    future = timezone.localtime() + datetime.timedelta(days=2)
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_confirm_pickup", args=[sheet.pk]),
        {"picked_up_at_0": future.strftime("%Y-%m-%d"), "picked_up_at_1": "15:30:00", "agent": "王师傅 YT-0931"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("The pickup time is in the future") == 1 and messages_of(response) == []
    assert "王师傅 YT-0931" in html and future.strftime("%Y-%m-%d") in html and "15:30:00" in html
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED


def test_the_pickup_action_keeps_what_was_typed_when_it_refuses_every_sheet(warehouse_client, shop):
    sheet = booked_sheet(shop)
    future = timezone.localtime() + datetime.timedelta(days=2)
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_changelist"),
        {
            "action": "confirm_pickup",
            "_selected_action": [sheet.pk],
            "apply": "1",
            "picked_up_at_0": future.strftime("%Y-%m-%d"),
            "picked_up_at_1": "15:30:00",
            "agent": "王师傅 YT-0931",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("The pickup time is in the future") == 1 and "王师傅 YT-0931" in html
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED


@pytest.fixture
def shop_b():
    return ShopFactory(code="shop-b", name="Shop B")


@pytest.fixture
def limited_client(client, warehouse_user, shop):
    shop.members.add(warehouse_user)
    client.force_login(warehouse_user)
    return client


@pytest.mark.parametrize(
    "page", ["change", "history", "print", "cancel", "confirm_pickup"]
)
def test_another_shops_sheet_is_not_found(limited_client, shop, shop_b, page):
    theirs = booked_sheet(shop_b, [sealed_bag(shop_b)])
    mine = booked_sheet(shop, [sealed_bag(shop)])
    url = f"admin:pickups_handoversheet_{page}"
    assert limited_client.get(reverse(url, args=[theirs.pk])).status_code == 404
    assert limited_client.get(reverse(url, args=[mine.pk])).status_code == 200
    if page in ("cancel", "confirm_pickup"):
        assert limited_client.post(reverse(url, args=[theirs.pk]), {"reason": "x", "agent": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == SheetStatus.BOOKED


def test_a_limited_user_cannot_create_a_sheet_for_another_shop(limited_client, shop, shop_b):
    bag = sealed_bag(shop_b)
    page = limited_client.get(reverse(ADD)).content.decode()
    assert "Shop B" not in page and bag.number not in page
    response = limited_client.post(reverse(ADD), sheet_post(shop_b, bags=[bag.pk], scanned_codes=bag.number))
    assert response.status_code == 200 and not HandoverSheet.objects.exists()
    response = limited_client.post(reverse(ADD), sheet_post(shop, scanned_codes=bag.number))
    assert f"{bag.number} is neither a bag number nor a tracking number" in response.content.decode()
    assert not HandoverSheet.objects.exists()
