"""A manager sends an outlet its stalled parcels from the scorecard; a clerk prints a thermal bag label.

Screenshots (1366×768) of the send preview in English and Chinese, and the thermal label rendered to a
100 × 150 mm PDF (screenshots/thermal-bag-label.pdf; turned into a PNG where `pdftoppm` exists).
"""

import datetime
import shutil
import subprocess

import pytest
from django.utils import timezone

from fulfillment.tests.factories import CarrierFactory, CarrierOutletFactory, OrderFactory, ParcelFactory, ShopFactory
from monitoring.tests.factories import AlertFactory
from notifications.models import OutletDispatch
from notifications.tests.test_digests import Receiver
from pickups.models import ConsolidationBag, PrinterPreference
from pickups.tests.factories import PickupCoverageFactory
from tests.browser.conftest import log_in
from tests.browser.data import CLERK, MANAGER, make_user

SCREEN = {"width": 1366, "height": 768}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def outlet_with_stalled_parcels(receiver_url):
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店")
    zto = CarrierFactory(code="ZTO", name="中通快递")
    outlet = CarrierOutletFactory(
        carrier=zto, code="ZTO-HZ-YH", name="余杭网点", contact_name="王经理", contact_phone="0571-8888 1234",
        robot_kind="dingtalk", robot_url=receiver_url, robot_secret="SECdemo",
    )  # fmt: skip
    now = timezone.now()
    for i, (kind, level) in enumerate(
        [("stagnation", "overdue"), ("update_overdue", "overdue"), ("stagnation", "warning"), ("update_overdue", "warning")]
    ):
        paid = now - datetime.timedelta(days=3, hours=i)
        parcel = ParcelFactory(
            order=OrderFactory(shop=shop, paid_at=paid, dest_province="广东省", dest_city="深圳市"),
            picked_up=True, carrier=zto, outlet=outlet, tracking_no=f"ZT7800{i:04d}",
            picked_up_at=paid + datetime.timedelta(hours=6),
        )  # fmt: skip
        AlertFactory(parcel=parcel, kind=kind, level=level, raised_at=now - datetime.timedelta(hours=5),
                     due_at=now - datetime.timedelta(hours=2 - i))  # fmt: skip
    return shop, outlet


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_manager_previews_and_sends_an_outlet_its_parcels(page, live_server, screenshots, receiver, language):
    shop, outlet = outlet_with_stalled_parcels(receiver.url)
    make_user(MANAGER, "Managers")
    page.set_viewport_size(SCREEN)
    log_in(page, live_server, *MANAGER, next_path=f"/admin/dashboard/outlets/?shop={shop.pk}")
    if language == "zh-hans":
        page.click("#language-switch button[value='zh-hans']")
        page.wait_for_load_state()
    page.locator("#outlet-scorecards").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"outlet-scorecard-send-button-{language}.png"))
    page.click("a.outlet-send")
    page.wait_for_load_state()
    assert page.locator("#outlet-send-parcels tbody tr").count() == 4
    assert "王经理" in page.locator("#outlet-contact").inner_text()
    page.screenshot(path=str(screenshots / f"outlet-send-preview-{language}.png"), full_page=False)

    page.click("#outlet-send-form input[type=submit]")
    page.wait_for_load_state()
    (dispatch,) = OutletDispatch.objects.all()
    assert dispatch.parcel_count == 4 and dispatch.status == "sent" and len(receiver.requests) == 1
    assert "ZT78000000" in receiver.json()["markdown"]["text"]
    page.locator("#outlet-dispatches").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"outlet-send-sent-{language}.png"))


def test_clerk_switches_to_thermal_labels_and_prints_a_bag_label_at_100_by_150_mm(page, live_server, screenshots):
    from pickups import services

    clerk = make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店")
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    ConsolidationBag.objects.filter(pk=bag.pk).update(gross_weight_kg=5, length_cm=50, width_cm=40, height_cm=30)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    parcels = [ParcelFactory(order=OrderFactory(shop=shop), ready=True, carrier=yto) for _ in range(3)]
    services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in parcels], by=None)
    services.bag_seal(bag=ConsolidationBag.objects.get(pk=bag.pk), by=None)
    assert ConsolidationBag.objects.get(pk=bag.pk).items.count() == 3

    page.set_viewport_size(SCREEN)
    log_in(page, live_server, *CLERK, next_path=f"/admin/pickups/consolidationbag/{bag.pk}/label/")
    with page.expect_navigation():
        page.click("#format-switch button[value='thermal_100x150']")
    assert PrinterPreference.objects.get(user=clerk).label_format == "thermal_100x150"
    page.screenshot(path=str(screenshots / "thermal-bag-label-page.png"))

    pdf = screenshots / "thermal-bag-label.pdf"
    page.pdf(path=str(pdf), width="100mm", height="150mm", prefer_css_page_size=True, print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    to_png(pdf)

    # The handover sheet of that bag, on the same printer: as many 100 × 150 mm labels as it needs.
    PickupCoverageFactory(province=shop.pickup_province, city=shop.pickup_city)
    sheet = services.handover_sheet_create(
        shop=shop, carrier=yto, pickup_address=shop.pickup_address, pickup_province=shop.pickup_province,
        pickup_city=shop.pickup_city, window_start=timezone.now() + datetime.timedelta(hours=1),
        window_end=timezone.now() + datetime.timedelta(hours=3), bags=[ConsolidationBag.objects.get(pk=bag.pk)], by=clerk,
    )  # fmt: skip
    page.goto(f"{live_server.url}/admin/pickups/handoversheet/{sheet.pk}/print/")
    assert "size: 100mm 150mm" in page.content()
    sheet_pdf = screenshots / "thermal-handover-sheet.pdf"
    page.pdf(path=str(sheet_pdf), width="100mm", height="150mm", prefer_css_page_size=True, print_background=True)
    to_png(sheet_pdf)


def to_png(pdf):
    """The PDF's first page as a PNG at 203 dpi (what the thermal head prints), where pdftoppm exists."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        png = str(pdf.with_suffix(""))
        subprocess.run([pdftoppm, "-png", "-r", "203", "-singlefile", str(pdf), png], check=True)  # noqa: S603
