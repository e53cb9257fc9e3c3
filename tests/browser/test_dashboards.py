"""A manager works with the dashboards in a real browser; a clerk is refused; the UI switches to Chinese."""

import csv
import io

import pytest

from monitoring.models import Alert, AlertLevel
from tests.browser.conftest import log_in
from tests.browser.data import CLERK, MANAGER, build_dashboard_data, make_user

pytestmark = pytest.mark.browser


def test_manager_filters_stalled_parcels_and_exports_them(page, live_server, screenshots):
    data = build_dashboard_data()
    make_user(MANAGER, "Managers")
    shop = data["flagship"]
    expected = set(
        Alert.objects.filter(resolved_at__isnull=True, parcel__shop=shop, level=AlertLevel.OVERDUE).values_list(
            "parcel__tracking_no", flat=True
        )
    )
    others = set(Alert.objects.filter(resolved_at__isnull=True).values_list("parcel__tracking_no", flat=True))
    assert expected and others - expected, "the data set must have rows to filter out"

    log_in(page, live_server, *MANAGER)
    page.click("#dashboards-module >> text=Stalled and overdue parcels")
    page.select_option("#id_shop", label=str(shop))
    page.select_option("#id_level", value="overdue")
    page.click("#stalled-filters input[type=submit]")
    page.wait_for_load_state()

    shown = set(page.locator("#stalled-parcels tbody tr td:first-child a").all_inner_texts())
    assert shown == expected
    page.screenshot(path=str(screenshots / "dashboard-stalled-filtered.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.startswith("stalled-parcels-")
    text = open(download.path(), encoding="utf-8-sig").read()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["tracking number", "carrier", "shop"]
    assert {row[0] for row in rows} == expected
    assert len(rows) == len(expected)
    assert {row[2] for row in rows} == {shop.code}
    assert {row[header.index("level")] for row in rows} == {"overdue"}

    # Each row leads to the parcel in the admin.
    first = page.locator("#stalled-parcels tbody tr td:first-child a").first
    number = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert "/admin/fulfillment/parcel/" in page.url
    assert number in page.content()


def test_every_dashboard_renders_with_its_chart(page, live_server, screenshots):
    data = build_dashboard_data()
    make_user(MANAGER, "Managers")
    log_in(page, live_server, *MANAGER, next_path="/admin/dashboard/")

    assert page.locator("#total-open").inner_text() != "0"
    assert page.locator("svg.chart rect").count() > 0
    assert page.locator("#due-soon tbody tr").count() == 4
    page.screenshot(path=str(screenshots / "dashboard-overview.png"), full_page=True)

    page.click(".dashboard-nav >> text=Stalled and overdue parcels")
    assert page.locator("#stalled-parcels tbody tr").count() > 0
    page.click("#stalled-parcels thead >> text=Hours since last valid node")
    page.wait_for_load_state()
    cells = page.locator("#stalled-parcels tbody td.num:nth-child(8)").all_inner_texts()
    hours = [int(h) for h in cells if h != "—"]
    assert hours == sorted(hours, reverse=True)  # longest silence first
    assert cells[len(hours):] == ["—"] * (len(cells) - len(hours))  # no valid node yet: last
    page.screenshot(path=str(screenshots / "dashboard-stalled.png"), full_page=True)

    page.click(".dashboard-nav >> text=Shop indicators")
    page.select_option("#id_shop", label=str(data["flagship"]))
    page.click("#period-form input[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#period-pickup-rate").inner_text().endswith("%")
    assert page.locator("svg.chart polyline").count() == 2
    assert page.locator("#daily-rates tbody tr").count() == 14
    page.screenshot(path=str(screenshots / "dashboard-shop-indicators.png"), full_page=True)

    page.click(".dashboard-nav >> text=Courier outlet scorecards")
    page.wait_for_load_state()
    rows = page.locator("#outlet-scorecards tbody tr:not(.period-total):not(.no-outlet)")
    assert rows.count() == 3
    assert "★" in rows.first.inner_text()
    page.screenshot(path=str(screenshots / "dashboard-outlet-scorecards.png"), full_page=True)


def test_warehouse_clerk_is_refused_the_dashboards(page, live_server):
    make_user(CLERK, "Warehouse")
    log_in(page, live_server, *CLERK)

    assert page.locator("#dashboards-module").count() == 0
    for path in ("/admin/dashboard/", "/admin/dashboard/stalled/", "/admin/dashboard/stalled/?format=csv",
                 "/admin/dashboard/shops/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path


def test_manager_switches_the_interface_to_chinese(page, live_server, screenshots):
    build_dashboard_data(days=3)
    make_user(MANAGER, "Managers")
    log_in(page, live_server, *MANAGER)

    page.click("#language-switch button[value='zh-hans']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "看板" in page.locator("#dashboards-module").inner_text()

    page.click("#dashboards-module >> text=概览")
    page.wait_for_load_state()
    body = page.locator("#content").inner_text()
    assert "停滞与超时包裹" in body
    assert "Open alerts" not in body
    page.screenshot(path=str(screenshots / "dashboard-overview-zh.png"), full_page=True)

    page.click(".dashboard-nav >> text=停滞与超时包裹")
    page.wait_for_load_state()
    assert page.locator("#stalled-filters label[for=id_shop]").inner_text().strip().rstrip(":：") != "Shop"
    page.screenshot(path=str(screenshots / "dashboard-stalled-zh.png"), full_page=True)


SCREEN = {"width": 1366, "height": 768}


def _in_language(page, live_server, language: str) -> None:
    if language == "zh-hans":
        page.click("#language-switch button[value='zh-hans']")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "zh-hans"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_stalled_list_tabs_count_and_filter_one_row_per_parcel(page, live_server, screenshots, language):
    build_dashboard_data()
    make_user(MANAGER, "Managers")
    page.set_viewport_size(SCREEN)
    log_in(page, live_server, *MANAGER, next_path="/admin/dashboard/stalled/")
    _in_language(page, live_server, language)

    open_alerts = Alert.objects.filter(resolved_at__isnull=True)
    parcels = open_alerts.values("parcel").distinct().count()
    assert parcels < open_alerts.count(), "the data set must have parcels with two open alerts"
    total = page.locator("#stalled-total").inner_text()
    assert str(parcels) in total and str(open_alerts.count()) in total
    numbers = page.locator("#stalled-parcels tbody tr td:first-child a").all_inner_texts()
    assert len(numbers) == len(set(numbers))  # one row per parcel
    page.screenshot(path=str(screenshots / f"stalled-tabs-{language}.png"))

    group = page.locator(".stalled-tabs .tab-group[data-kind='pickup_overdue']")
    tab = group.locator("a[data-level='overdue']")
    expected = open_alerts.filter(kind="pickup_overdue", level="overdue").count()
    assert tab.locator("b").inner_text() == str(expected)
    assert tab.inner_text().startswith("已超时" if language == "zh-hans" else "overdue")
    tab.click()
    page.wait_for_load_state()
    assert page.locator(".stalled-tabs a.active").count() == 1
    assert page.locator("#stalled-parcels tbody tr").count() == min(expected, 50)
    assert str(expected) in page.locator("#stalled-total").inner_text()
    page.screenshot(path=str(screenshots / f"stalled-tab-pickup-overdue-{language}.png"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_outlet_scorecard_rows_add_up_to_the_shop(page, live_server, screenshots, language):
    data = build_dashboard_data()
    make_user(MANAGER, "Managers")
    page.set_viewport_size(SCREEN)
    log_in(page, live_server, *MANAGER, next_path=f"/admin/dashboard/outlets/?shop={data['flagship'].pk}")
    _in_language(page, live_server, language)

    def paid(row):
        return int(row.locator("td").nth(2).inner_text())

    outlets = page.locator("#outlet-scorecards tbody tr:not(.period-total):not(.no-outlet)")
    rows = [outlets.nth(i) for i in range(outlets.count())]
    no_outlet = page.locator("#no-outlet")
    assert no_outlet.count() == 1
    assert sum(paid(r) for r in rows) + paid(no_outlet) == paid(page.locator("#shop-total"))
    assert ("菜鸟指数" if language == "zh-hans" else "Cainiao index") in rows[0].inner_text()
    assert ("已定" if language == "zh-hans" else "decided") in page.locator("#shop-total").inner_text()
    assert page.locator("ul.rate-definitions li").count() == 3
    page.locator("#outlet-scorecards").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"outlet-scorecard-{language}.png"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_manager_resolves_a_complaint_from_its_own_page(page, live_server, screenshots, language):
    from fulfillment.models import EventCode
    from fulfillment.tests.factories import ParcelFactory, TrackingEventFactory
    from monitoring.models import AlertKind, Complaint
    from monitoring.tests.factories import AlertFactory, ComplaintFactory

    parcel = ParcelFactory(picked_up=True, tracking_no="YT8800001")
    TrackingEventFactory(parcel=parcel, code=EventCode.DELIVERED, occurred_at=parcel.picked_up_at, location="深圳")
    complaint = ComplaintFactory(parcel=parcel)
    AlertFactory(parcel=parcel, kind=AlertKind.FALSE_SIGNOFF, level=AlertLevel.OVERDUE)
    make_user(MANAGER, "Managers")
    page.set_viewport_size(SCREEN)
    log_in(page, live_server, *MANAGER, next_path=f"/admin/monitoring/complaint/{complaint.pk}/change/")
    _in_language(page, live_server, language)

    content = page.locator("#content").inner_text()
    assert ("虚假签收投诉" if language == "zh-hans" else "False sign-off complaint") in content
    assert "false_signoff" not in content and "深圳" in content
    page.fill("#id_note", "买家已确认收货" if language == "zh-hans" else "Buyer confirmed receipt by phone")
    page.screenshot(path=str(screenshots / f"complaint-{language}.png"))
    page.click("input[name=_save]")
    page.wait_for_load_state()

    assert ("投诉已解决" if language == "zh-hans" else "The complaint is resolved.") in page.locator(".messagelist").inner_text()
    assert Complaint.objects.get(pk=complaint.pk).resolved_at is not None
    assert not Alert.objects.filter(parcel=parcel, resolved_at__isnull=True).exists()
