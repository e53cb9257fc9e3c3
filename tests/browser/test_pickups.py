"""A warehouse clerk bags parcels, seals the bag, hands it over on a sheet, books it and cancels it."""

import datetime

import pytest
from django.utils import timezone

from fulfillment.models import Platform
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory, ShopFactory
from pickups.models import BagStatus, ConsolidationBag, HandoverSheet, SheetStatus
from pickups.tests.factories import PickupCoverageFactory
from tests.browser.conftest import log_in
from tests.browser.data import CLERK, make_user

pytestmark = pytest.mark.browser


def test_clerk_bags_seals_hands_over_books_and_cancels(page, live_server, screenshots):
    make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    PickupCoverageFactory(province=shop.pickup_province, city=shop.pickup_city)
    numbers = ["YT9100000001", "YT9100000002"]
    for number in numbers:
        ParcelFactory(order=OrderFactory(shop=shop), ready=True, carrier=yto, tracking_no=number)

    log_in(page, live_server, *CLERK)

    # A new bag for the Shenzhen sorting centre; saving it opens its scanning page.
    page.goto(f"{live_server.url}/admin/pickups/consolidationbag/add/")
    page.select_option("#id_shop", label=str(shop))
    page.select_option("#id_sorting_centre", value="SZ")
    page.click("input[name=_save]")
    page.wait_for_selector("#id_tracking_numbers")

    # The scanner types each number and presses Enter; the page records it without reloading.
    for count, number in enumerate(numbers, start=1):
        page.fill("#id_tracking_numbers", number)
        page.press("#id_tracking_numbers", "Enter")
        page.wait_for_function(
            "count => document.querySelectorAll('#scan-log tr.scan-result').length === count", arg=count
        )
        assert page.locator("#parcel-count").inner_text().startswith(f"{count} ")
        assert "Added" in page.locator("#scan-last").inner_text()
    # Scanning the same parcel again does not add it twice.
    page.fill("#id_tracking_numbers", numbers[0])
    page.press("#id_tracking_numbers", "Enter")
    page.wait_for_selector("#scan-log tr[data-outcome=already_in_this_bag]")
    assert page.locator("#parcel-count").inner_text().startswith("2 ")
    bag = ConsolidationBag.objects.get(shop=shop)

    # Weigh, measure and seal.
    page.click("text=Weigh and seal")
    page.fill("#id_gross_weight_kg", "3.2")
    page.fill("#id_length_cm", "50")
    page.fill("#id_width_cm", "40")
    page.fill("#id_height_cm", "30")
    page.click("input[name=_seal]")
    page.wait_for_load_state()
    assert f"Bag {bag.number} is sealed." in page.locator("ul.messagelist").inner_text()
    bag.refresh_from_db()
    assert bag.status == BagStatus.SEALED

    # A handover sheet with the sealed bag, for this afternoon's pickup window.
    start = timezone.localtime() + datetime.timedelta(hours=2)
    end = start + datetime.timedelta(hours=2)
    page.goto(f"{live_server.url}/admin/pickups/handoversheet/add/")
    page.select_option("#id_shop", label=str(shop))
    page.select_option("#id_carrier", label=str(yto))
    page.fill("#id_window_start_0", start.strftime("%Y-%m-%d"))
    page.fill("#id_window_start_1", start.strftime("%H:%M:%S"))
    page.fill("#id_window_end_0", end.strftime("%Y-%m-%d"))
    page.fill("#id_window_end_1", end.strftime("%H:%M:%S"))
    page.check(f"input[name=bags][value='{bag.pk}']")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    sheet = HandoverSheet.objects.get(shop=shop)
    assert bag.number in page.locator("#sheet-items").inner_text()

    page.click("input[name=_book]")
    page.wait_for_load_state()
    assert f"Handover sheet {sheet.number} is booked." in page.locator("ul.messagelist").inner_text()
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED

    # Cancel with a reason, before the agent comes.
    page.click("a.pc-cancel-link")
    page.fill("#id_reason", "仓库停电，改约明天揽收")
    page.click("input[type=submit].default")
    page.wait_for_load_state()
    assert "is cancelled" in page.locator("ul.messagelist").inner_text()
    assert "仓库停电，改约明天揽收" in page.content()
    page.screenshot(path=str(screenshots / "pickups-sheet-cancelled.png"), full_page=True)
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.CANCELLED
    assert sheet.cancel_reason == "仓库停电，改约明天揽收"
    assert sheet.cancelled_by.username == CLERK[0]
