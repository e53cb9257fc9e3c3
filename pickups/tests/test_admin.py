import datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import ParcelStatus, Platform
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ShopFactory
from pickups import services
from pickups.models import BagStatus, ConsolidationBag, HandoverSheet, SheetStatus
from pickups.tests.factories import PickupCoverageFactory, parcels_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    PickupCoverageFactory(province="浙江省", city="")
    return ShopFactory(code="acme", name="Acme")


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def weighed_bag(shop, parcels=2, **dims):
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    values = {"gross_weight_kg": 10, "length_cm": 60, "width_cm": 40, "height_cm": 40, **dims}
    ConsolidationBag.objects.filter(pk=bag.pk).update(**values)
    bag.refresh_from_db()
    if parcels:
        items = parcels_for(shop, parcels)
        services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in items], by=None)
    return bag


def draft_sheet(shop, bags=None):
    bags = bags or [services.bag_seal(bag=weighed_bag(shop), by=None)]
    start = timezone.now() + datetime.timedelta(hours=1)
    return services.handover_sheet_create(
        shop=shop,
        carrier=CarrierFactory(code="YTO"),
        pickup_address="文一西路 969 号",
        pickup_province="浙江省",
        pickup_city="杭州市",
        window_start=start,
        window_end=start + datetime.timedelta(hours=2),
        bags=bags,
        by=None,
    )


def booked_sheet(shop, bags=None):
    return services.handover_sheet_book(sheet=draft_sheet(shop, bags), by=None)


# --------------------------------------------------------------------------- bags


def test_a_clerk_creates_a_bag_and_lands_on_its_scan_page(warehouse_client, shop):
    response = warehouse_client.post(
        reverse("admin:pickups_consolidationbag_add"), {"shop": shop.pk, "sorting_centre": "YW"}
    )
    bag = ConsolidationBag.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:pickups_consolidationbag_scan", args=[bag.pk])
    assert bag.number.startswith("YW") and bag.transitions.get().by.username == "clerk"


def test_the_scan_page_has_an_autofocused_input(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=0)
    response = warehouse_client.get(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_tracking_numbers"' in html and "autofocus" in html


def test_scanning_shows_a_result_per_number(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=0)
    good, cancelled = parcels_for(shop, 2)
    cancelled.status = ParcelStatus.CANCELLED
    cancelled.save()
    response = warehouse_client.post(
        reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]),
        {"tracking_numbers": f"{good.tracking_no}\nNOPE-1\n{cancelled.tracking_no}\n"},
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain == [(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]), 302)]
    assert response.status_code == 200
    assert 'data-outcome="added"' in html and 'data-outcome="unknown"' in html and 'data-outcome="cancelled"' in html
    assert "Unknown tracking number." in html and "The order was cancelled" in html
    assert list(bag.items.values_list("parcel__tracking_no", flat=True)) == [good.tracking_no]


def test_a_parcel_is_taken_out_of_an_open_bag(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=1)
    parcel = bag.items.get().parcel
    response = warehouse_client.post(reverse("admin:pickups_consolidationbag_remove_parcel", args=[bag.pk, parcel.pk]))
    assert response.status_code == 302
    assert not bag.items.exists()
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.READY_TO_SHIP


def change_data(bag, **extra):
    data = {
        "gross_weight_kg": bag.gross_weight_kg,
        "length_cm": bag.length_cm,
        "width_cm": bag.width_cm,
        "height_cm": bag.height_cm,
        "transitions-TOTAL_FORMS": "0",
        "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0",
        "transitions-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_seal_button_names_every_failed_check(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=1)
    url = reverse("admin:pickups_consolidationbag_change", args=[bag.pk])
    response = warehouse_client.post(
        url, change_data(bag, gross_weight_kg="51", length_cm="125", _seal="Seal"), follow=True
    )
    text = " ".join(messages_of(response))
    assert "was not sealed" in text and "51.00 kg" in text and "125.0 cm" in text
    bag.refresh_from_db()
    assert bag.status == BagStatus.OPEN and bag.gross_weight_kg == 51  # the measures are kept


def test_seal_button_seals_a_bag_within_limits(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=1)
    url = reverse("admin:pickups_consolidationbag_change", args=[bag.pk])
    page = warehouse_client.get(url).content.decode()
    assert 'name="_seal"' in page and "Every limit holds" in page
    response = warehouse_client.post(url, change_data(bag, gross_weight_kg="12.3", _seal="Seal"), follow=True)
    assert "is sealed" in " ".join(messages_of(response))
    bag.refresh_from_db()
    assert (bag.status, str(bag.gross_weight_kg)) == (BagStatus.SEALED, "12.30")
    # Sealed: measures are read-only, no seal button any more.
    page = warehouse_client.get(url).content.decode()
    assert 'name="_seal"' not in page and 'name="gross_weight_kg"' not in page


def test_seal_action_reports_sealed_and_skipped(warehouse_client, shop):
    good = weighed_bag(shop, parcels=1)
    empty = weighed_bag(shop, parcels=0)
    response = warehouse_client.post(
        reverse("admin:pickups_consolidationbag_changelist"),
        {"action": "seal_bags", "_selected_action": [good.pk, empty.pk]},
        follow=True,
    )
    text = " ".join(messages_of(response))
    assert "1 bag sealed." in text and "1 skipped" in text and empty.number in text and "empty" in text


def test_the_label_carries_a_code128_barcode(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=3)
    response = warehouse_client.get(reverse("admin:pickups_consolidationbag_label", args=[bag.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and bag.number in html and "Shenzhen" in html and "10.00 kg" in html
    assert html.count("<rect") > 20  # bars


def test_the_bag_history_is_on_its_page(warehouse_client, shop):
    bag = services.bag_seal(bag=weighed_bag(shop, parcels=1), by=None)
    html = warehouse_client.get(reverse("admin:pickups_consolidationbag_change", args=[bag.pk])).content.decode()
    assert "History" in html and "Sealed" in html and "Bag created" in html


# --------------------------------------------------------------------------- sheets


def sheet_post(shop, **extra):
    start = timezone.localtime() + datetime.timedelta(hours=1)
    end = start + datetime.timedelta(hours=2)
    data = {
        "shop": shop.pk,
        "carrier": CarrierFactory(code="YTO").pk,
        "pickup_address": "",
        "pickup_province": "",
        "pickup_city": "",
        "window_start_0": start.strftime("%Y-%m-%d"),
        "window_start_1": start.strftime("%H:%M:%S"),
        "window_end_0": end.strftime("%Y-%m-%d"),
        "window_end_1": end.strftime("%H:%M:%S"),
        "loose_tracking_numbers": "",
    }
    data.update(extra)
    return data


def test_a_sheet_is_created_from_sealed_bags_with_the_shops_address(warehouse_client, shop):
    bag = services.bag_seal(bag=weighed_bag(shop), by=None)
    loose = parcels_for(shop, 1)[0]
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_add"),
        sheet_post(shop, bags=[bag.pk], loose_tracking_numbers=loose.tracking_no),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sheet = HandoverSheet.objects.get()
    assert (sheet.pickup_city, sheet.status, sheet.created_by.username) == ("杭州市", SheetStatus.DRAFT, "clerk")
    assert sheet.items.filter(active=True).count() == 2
    page = warehouse_client.get(response["Location"]).content.decode()
    assert bag.number in page and "free pickup" in page and 'name="_book"' in page


def test_a_sheet_for_an_uncovered_city_is_refused_with_self_delivery(warehouse_client, shop):
    bag = services.bag_seal(bag=weighed_bag(shop), by=None)
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_add"),
        sheet_post(shop, bags=[bag.pk], pickup_address="海珠区", pickup_province="广东省", pickup_city="广州市"),
    )
    assert response.status_code == 200
    assert "self-delivery" in response.content.decode()
    assert not HandoverSheet.objects.exists()


def test_loose_lazada_parcels_are_refused_with_a_clear_message(warehouse_client):
    PickupCoverageFactory(province="浙江省", city="")
    shop = ShopFactory(code="laz", platform=Platform.LAZADA)
    loose = parcels_for(shop, 1)[0]
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_add"), sheet_post(shop, loose_tracking_numbers=loose.tracking_no)
    )
    assert response.status_code == 200
    assert "Lazada official pickup takes bagged parcels only" in response.content.decode()
    assert not HandoverSheet.objects.exists()


def test_book_button(warehouse_client, shop):
    bag = services.bag_seal(bag=weighed_bag(shop), by=None)
    sheet = draft_sheet(shop, [bag])
    url = reverse("admin:pickups_handoversheet_change", args=[sheet.pk])
    warehouse_client.post(url, {**inline_management(), "_book": "1"})
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED


def inline_management():
    return {
        "transitions-TOTAL_FORMS": "0",
        "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0",
        "transitions-MAX_NUM_FORMS": "1000",
    }


def test_cancel_page_needs_a_reason_and_frees_the_bags(warehouse_client, shop):
    sheet = booked_sheet(shop)
    url = reverse("admin:pickups_handoversheet_cancel", args=[sheet.pk])
    page = warehouse_client.get(url).content.decode()
    assert 'id="id_reason"' in page

    response = warehouse_client.post(url, {"reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED

    response = warehouse_client.post(url, {"reason": "客户改约明天"}, follow=True)
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.CANCELLED and sheet.cancel_reason == "客户改约明天"
    assert sheet.cancelled_by.username == "clerk"
    assert set(ConsolidationBag.objects.values_list("status", flat=True)) == {BagStatus.SEALED}
    html = response.content.decode()
    assert "free for another sheet" in html and "客户改约明天" in html


def picked_up(shop):
    sheet = booked_sheet(shop)
    return services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="王师傅")


def test_cancel_after_pickup_is_refused_by_a_direct_post(warehouse_client, shop):
    sheet = picked_up(shop)
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_cancel", args=[sheet.pk]), {"reason": "oops"}, follow=True
    )
    assert "cannot be cancelled" in " ".join(messages_of(response))
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.PICKED_UP and sheet.cancelled_at is None


def test_cancel_after_pickup_is_refused_by_the_action(warehouse_client, shop):
    sheet = picked_up(shop)
    draft = booked_sheet(shop)
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_changelist"),
        {"action": "cancel_sheets", "_selected_action": [sheet.pk, draft.pk], "apply": "1", "reason": "weather"},
        follow=True,
    )
    text = " ".join(messages_of(response))
    assert "1 sheet cancelled." in text and "1 skipped" in text and "cannot be cancelled" in text
    sheet.refresh_from_db()
    draft.refresh_from_db()
    assert (sheet.status, draft.status) == (SheetStatus.PICKED_UP, SheetStatus.CANCELLED)


def test_the_cancel_action_asks_for_a_reason_first(warehouse_client, shop):
    sheet = booked_sheet(shop)
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_changelist"),
        {"action": "cancel_sheets", "_selected_action": [sheet.pk]},
    )
    assert response.status_code == 200 and 'id="id_reason"' in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED


def test_the_change_form_cannot_change_the_status(warehouse_client, shop):
    sheet = picked_up(shop)
    url = reverse("admin:pickups_handoversheet_change", args=[sheet.pk])
    page = warehouse_client.get(url).content.decode()
    assert 'name="status"' not in page and "can no longer be cancelled" in page
    warehouse_client.post(url, {**inline_management(), "status": "cancelled", "cancel_reason": "x", "_save": "Save"})
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.PICKED_UP


def test_the_bag_status_is_not_editable_either(warehouse_client, shop):
    bag = weighed_bag(shop, parcels=1)
    url = reverse("admin:pickups_consolidationbag_change", args=[bag.pk])
    warehouse_client.post(url, change_data(bag, status="received"))
    bag.refresh_from_db()
    assert bag.status == BagStatus.OPEN


def test_managers_may_not_cancel(manager_client, shop):
    sheet = booked_sheet(shop)
    assert manager_client.get(reverse("admin:pickups_handoversheet_cancel", args=[sheet.pk])).status_code == 403
    assert (
        manager_client.post(reverse("admin:pickups_handoversheet_cancel", args=[sheet.pk]), {"reason": "x"}).status_code
        == 403
    )
    page = manager_client.get(reverse("admin:pickups_handoversheet_change", args=[sheet.pk])).content.decode()
    assert "Cancel sheet" not in page
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED


BOOKED_BEFORE_THE_PICKUP = datetime.datetime(2026, 11, 25, 5, 0, tzinfo=datetime.UTC)  # 13:00 Shanghai


def test_confirm_pickup_page(warehouse_client, shop):
    with time_machine.travel(BOOKED_BEFORE_THE_PICKUP, tick=False):
        sheet = booked_sheet(shop)
    bag = sheet.items.get().bag
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_confirm_pickup", args=[sheet.pk]),
        {"picked_up_at_0": "2026-11-25", "picked_up_at_1": "15:30:00", "agent": "王师傅 YT-0931"},
        follow=True,
    )
    assert "is recorded" in " ".join(messages_of(response))
    sheet.refresh_from_db()
    bag.refresh_from_db()
    expected = datetime.datetime(2026, 11, 25, 7, 30, tzinfo=datetime.UTC)  # 15:30 in Shanghai
    assert (sheet.status, sheet.picked_up_at, sheet.pickup_agent) == (SheetStatus.PICKED_UP, expected, "王师傅 YT-0931")
    assert (bag.status, bag.picked_up_at) == (BagStatus.PICKED_UP, expected)


def test_confirm_pickup_action_reports_skipped_drafts(warehouse_client, shop):
    with time_machine.travel(BOOKED_BEFORE_THE_PICKUP, tick=False):
        sheet = booked_sheet(shop)
    draft_bag = services.bag_seal(bag=weighed_bag(shop), by=None)
    draft = draft_sheet(shop, [draft_bag])
    response = warehouse_client.post(
        reverse("admin:pickups_handoversheet_changelist"),
        {
            "action": "confirm_pickup",
            "_selected_action": [sheet.pk, draft.pk],
            "apply": "1",
            "picked_up_at_0": "2026-11-25",
            "picked_up_at_1": "15:30:00",
            "agent": "王师傅",
        },
        follow=True,
    )
    text = " ".join(messages_of(response))
    assert "1 sheet recorded as picked up." in text and "book it" in text


def test_print_view_is_an_a4_sheet_with_barcode_bags_and_signatures(warehouse_client, shop):
    sheet = booked_sheet(shop)
    bag = sheet.items.get().bag
    html = warehouse_client.get(reverse("admin:pickups_handoversheet_print", args=[sheet.pk])).content.decode()
    assert "size: A4" in html and "<svg" in html and sheet.number in html and bag.number in html
    assert "文一西路 969 号" in html and "signature" in html


def test_free_pickup_eligibility_is_shown(warehouse_client, shop):
    sheet = booked_sheet(shop)
    for _ in range(3):
        OrderFactory(shop=shop)
    html = warehouse_client.get(reverse("admin:pickups_handoversheet_change", args=[sheet.pk])).content.decode()
    assert "does not qualify for free pickup" in html


def test_sheet_history_shows_who_and_why(warehouse_client, shop, warehouse_user):
    sheet = booked_sheet(shop)
    services.handover_sheet_cancel(sheet=sheet, by=warehouse_user, reason="暴雨停运")
    html = warehouse_client.get(reverse("admin:pickups_handoversheet_change", args=[sheet.pk])).content.decode()
    assert "暴雨停运" in html and "clerk" in html and "Cancelled" in html


def test_anonymous_users_see_nothing(client, shop):
    bag = weighed_bag(shop, parcels=0)
    for url in (
        reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]),
        reverse("admin:pickups_consolidationbag_label", args=[bag.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_reopening_a_sealed_bag_takes_a_reason_and_the_seal_permission(warehouse_client, manager_user, shop):
    from django.test import Client

    manager_client = Client()
    manager_client.force_login(manager_user)
    bag = services.bag_seal(bag=weighed_bag(shop), by=None)
    url = reverse("admin:pickups_consolidationbag_change", args=[bag.pk])
    page = warehouse_client.get(url).content.decode()
    assert 'name="_reopen"' in page and 'name="reopen_reason"' in page

    response = warehouse_client.post(url, {"_reopen": "1", "reopen_reason": ""}, follow=True)
    bag.refresh_from_db()
    assert bag.status == BagStatus.SEALED
    assert any("reason" in m for m in messages_of(response))

    assert manager_client.post(url, {"_reopen": "1", "reopen_reason": "x"}).status_code == 403
    bag.refresh_from_db()
    assert bag.status == BagStatus.SEALED

    warehouse_client.post(url, {"_reopen": "1", "reopen_reason": "扫错袋"}, follow=True)
    bag.refresh_from_db()
    assert bag.status == BagStatus.OPEN
    assert bag.transitions.filter(to_status=BagStatus.OPEN, reason="扫错袋", by__username="clerk").exists()


def test_reporting_a_bag_lost_asks_for_a_reason_and_is_idempotent(warehouse_client, shop):
    sheet = booked_sheet(shop)
    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="王师傅")
    bag = sheet.items.get().bag
    changelist = reverse("admin:pickups_consolidationbag_changelist")
    action = {"action": "report_lost", "_selected_action": [bag.pk]}

    page = warehouse_client.post(changelist, action)
    assert page.status_code == 200 and bag.number in page.content.decode() and 'name="reason"' in page.content.decode()
    bag.refresh_from_db()
    assert bag.status == BagStatus.PICKED_UP  # nothing happens before the reason is given

    response = warehouse_client.post(changelist, {**action, "apply": "1", "reason": "承运商确认丢失"}, follow=True)
    assert "1 bag reported lost." in " ".join(messages_of(response))
    again = warehouse_client.post(changelist, {**action, "apply": "1", "reason": "again"}, follow=True)
    assert "already reported lost" in " ".join(messages_of(again))
    bag.refresh_from_db()
    assert bag.status == BagStatus.LOST
    assert bag.transitions.filter(to_status=BagStatus.LOST).count() == 1
    lost_list = warehouse_client.get(changelist, {"status__exact": "lost"}).content.decode()
    assert bag.number in lost_list
