"""A warehouse clerk bags parcels, seals the bag, hands it over on a sheet, books it and cancels it."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

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


def sealed_bags_for(shop, carrier, count: int, parcels_each: int = 2) -> list[ConsolidationBag]:
    from pickups import services

    bags = []
    for _ in range(count):
        bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
        ConsolidationBag.objects.filter(pk=bag.pk).update(
            gross_weight_kg=5, length_cm=50, width_cm=40, height_cm=30
        )
        parcels = [
            ParcelFactory(order=OrderFactory(shop=shop), ready=True, carrier=carrier) for _ in range(parcels_each)
        ]
        services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in parcels], by=None)
        bags.append(services.bag_seal(bag=ConsolidationBag.objects.get(pk=bag.pk), by=None))
    return bags


def switch_language(page, code: str) -> None:
    """The site's own language switch (a POST to /i18n/setlang/)."""
    with page.expect_navigation():
        page.click(f"#language-switch button[value='{code}']")


def test_clerk_builds_a_sheet_by_scanning_two_bag_labels(page, live_server, screenshots):
    make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    zto = CarrierFactory(code="ZTO", name="中通快递")
    PickupCoverageFactory(province=shop.pickup_province, city=shop.pickup_city)
    first, second, left_behind = sealed_bags_for(shop, yto, 3)
    (other_carrier,) = sealed_bags_for(shop, zto, 1)

    log_in(page, live_server, *CLERK)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/admin/pickups/handoversheet/add/")
    page.select_option("#id_shop", label=str(shop))
    page.select_option("#id_carrier", label=str(yto))
    # The other carrier's bag is not offered once the carrier is chosen.
    assert page.locator(f"#id_bags input[value='{other_carrier.pk}']").is_hidden()
    assert page.locator(f"#id_bags input[value='{first.pk}']").is_visible()

    # A keyboard-wedge scanner: the label's number, then Enter, fast. Enter never submits the form.
    page.click("#id_scan")
    for code in (first.number, f"]C1{second.number.lower()}", other_carrier.number, first.number):
        page.keyboard.type(code, delay=5)
        page.keyboard.press("Enter")
    log = page.locator("#scan-log")
    expect(page.locator("#scan-log li")).to_have_count(4)
    expect(page.locator("#scan-log li[data-outcome=checking]")).to_have_count(0)
    assert "/add/" in page.url and not HandoverSheet.objects.exists()
    outcomes = [item.get_attribute("data-outcome") for item in log.locator("li").all()]
    assert sorted(outcomes) == ["added", "added", "duplicate", "other_carrier"]
    assert "ZTO" in log.inner_text() and "scanned already" in log.inner_text()
    assert page.input_value("#id_scanned_codes").split() == [first.number, second.number]
    page.screenshot(path=str(screenshots / "sheet-form-scanned-en.png"), full_page=True)

    # In Chinese (the site's language switch reloads the empty form): scan the two labels and save.
    switch_language(page, "zh-hans")
    page.select_option("#id_shop", label=str(shop))
    page.select_option("#id_carrier", label=str(yto))
    page.click("#id_scan")
    for code in (first.number, second.number):
        page.keyboard.type(code, delay=5)
        page.keyboard.press("Enter")
    expect(page.locator("#scan-log li[data-outcome=added]")).to_have_count(2)
    page.screenshot(path=str(screenshots / "sheet-form-scanned-zh.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_load_state()
    sheet = HandoverSheet.objects.get(shop=shop)
    on_sheet = set(sheet.items.filter(active=True).values_list("bag__number", flat=True))
    assert on_sheet == {first.number, second.number}
    assert left_behind.number not in page.locator("#sheet-items").inner_text()
    page.screenshot(path=str(screenshots / "sheet-change-zh.png"), full_page=True)
    switch_language(page, "en")
    page.screenshot(path=str(screenshots / "sheet-change-en.png"), full_page=True)


def test_manager_reports_a_picked_up_bag_lost_and_downloads_its_claim_evidence(page, live_server, screenshots):
    import io

    from openpyxl import load_workbook

    from pickups import services
    from tests.browser.data import MANAGER

    make_user(MANAGER, "Managers")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    PickupCoverageFactory(province=shop.pickup_province, city=shop.pickup_city)
    (bag,) = sealed_bags_for(shop, yto, 1, parcels_each=3)
    start = timezone.now() + datetime.timedelta(hours=1)
    sheet = services.handover_sheet_create(
        shop=shop,
        carrier=yto,
        pickup_address=shop.pickup_address,
        pickup_province=shop.pickup_province,
        pickup_city=shop.pickup_city,
        window_start=start,
        window_end=start + datetime.timedelta(hours=2),
        bags=[bag],
        by=None,
    )
    services.handover_sheet_book(sheet=sheet, by=None)
    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="王师傅 YT-0931")
    tracking_numbers = sorted(bag.items.values_list("parcel__tracking_no", flat=True))

    log_in(page, live_server, *MANAGER)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/admin/pickups/consolidationbag/")
    page.check(f"input[name=_selected_action][value='{bag.pk}']")
    page.select_option("select[name=action]", value="report_lost")
    with page.expect_navigation():
        page.click("button[name=index]")
    # The confirmation page asks why; an empty reason is refused and the page stays.
    assert bag.number in page.locator("#content-main").inner_text()
    with page.expect_navigation():
        page.click("input[type=submit].default")
    assert "This field is required." in page.locator("#content-main").inner_text()
    bag.refresh_from_db()
    assert bag.status == BagStatus.PICKED_UP
    page.fill("#id_reason", "承运商 2026-12-01 回复：集包袋在分拨中心遗失")
    with page.expect_navigation():
        page.click("input[type=submit].default")
    assert "1 bag reported lost." in page.locator("ul.messagelist").inner_text()
    bag.refresh_from_db()
    assert bag.status == BagStatus.LOST

    page.goto(f"{live_server.url}/admin/pickups/consolidationbag/{bag.pk}/change/")
    assert "Reported lost on" in page.content()
    page.screenshot(path=str(screenshots / "lost-bag-en.png"), full_page=True)
    with page.expect_download() as csv_download:
        page.click("text=Claim evidence (CSV)")
    text = open(csv_download.value.path(), encoding="utf-8-sig").read()
    assert sheet.number in text and "王师傅 YT-0931" in text
    assert all(number in text for number in tracking_numbers)
    assert len(text.strip().splitlines()) == 1 + len(tracking_numbers)
    with page.expect_download() as xlsx_download:
        page.click("text=Claim evidence (Excel)")
    rows = list(load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read())).active.values)
    assert sorted(row[2] for row in rows[1:]) == tracking_numbers
    assert {row[10] for row in rows[1:]} == {sheet.number}

    switch_language(page, "zh-hans")
    assert "遗失" in page.content()
    page.screenshot(path=str(screenshots / "lost-bag-zh.png"), full_page=True)


def test_without_javascript_the_scanner_types_into_the_scanned_codes_box(browser, live_server, screenshots):
    make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    PickupCoverageFactory(province=shop.pickup_province, city=shop.pickup_city)
    first, second = sealed_bags_for(shop, yto, 2)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        log_in(page, live_server, *CLERK)
        page.goto(f"{live_server.url}/admin/pickups/handoversheet/add/?shop={shop.pk}&carrier={yto.pk}")
        assert page.locator("#id_scan").is_hidden()
        page.click("#id_scanned_codes")
        for code in (first.number, "NO-SUCH-BAG"):  # a textarea: Enter is a new line, not a submit
            page.keyboard.type(code, delay=5)
            page.keyboard.press("Enter")
        assert not HandoverSheet.objects.exists()
        with page.expect_navigation():
            page.click("input[name=_save]")
        # Refused, with a line per scan, and the codes kept: take out the unknown one and save again.
        assert "NO-SUCH-BAG is neither a bag number" in page.locator("#scan-log").inner_text()
        assert "1 scanned code was refused" in page.locator(".field-scanned_codes").inner_text()
        assert page.locator("#scan-log li[data-outcome=added]").count() == 1
        page.screenshot(path=str(screenshots / "sheet-form-no-js-refused-en.png"), full_page=True)
        page.fill("#id_scanned_codes", f"{first.number}\n{second.number}\n")
        with page.expect_navigation():
            page.click("input[name=_save]")
        sheet = HandoverSheet.objects.get()
        assert set(sheet.items.values_list("bag__number", flat=True)) == {first.number, second.number}
    finally:
        context.close()
