"""A scanner gun fires 50 numbers into a bag's scan page at scanner speed: every one is recorded, in order."""

from collections import Counter

import pytest
from django.urls import reverse

from fulfillment.models import Platform
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory, ShopFactory
from pickups import services
from pickups.models import ConsolidationBag
from tests.browser.conftest import log_in
from tests.browser.data import CLERK, make_user

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768  # the warehouse's workstation screens


def _parcel(shop, carrier, number, **traits):
    traits = traits or {"ready": True}
    return ParcelFactory(order=OrderFactory(shop=shop), carrier=carrier, tracking_no=number, **traits)


def _scan_burst(page, numbers):
    """What a keyboard-wedge scanner does: type fast, Enter, next number at once (no waiting)."""
    page.click("#id_tracking_numbers")
    for number in numbers:
        page.keyboard.type(number, delay=5)
        page.keyboard.press("Enter")


def _wait_for_log(page, lines: int):
    page.wait_for_function(
        """lines => document.querySelectorAll('#scan-log tr.scan-result').length === lines
             && document.getElementById('scan-queue').dataset.pending === '0'""",
        arg=lines,
        timeout=60_000,
    )


# Records what the clerk would hear and see: each beep's pitch, each flash of the scan box.
RECORD_SIGNALS = """
window.__beeps = []; window.__flashes = [];
class FakeAudioContext {
  constructor() { this.currentTime = 0; this.destination = {}; }
  createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: d => d }; }
  createOscillator() {
    const osc = { frequency: {}, connect: d => d, start() { window.__beeps.push(osc.frequency.value); }, stop() {} };
    return osc;
  }
}
window.AudioContext = FakeAudioContext;
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("scan-box");
  new MutationObserver(() => {
    for (const name of ["pc-flash-added", "pc-flash-refused"]) {
      if (box.classList.contains(name)) { window.__flashes.push(name); }
    }
  }).observe(box, { attributes: true, attributeFilter: ["class"] });
});
"""


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_fifty_scans_at_scanner_speed_are_all_recorded(page, live_server, screenshots):
    clerk = make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    rival = ShopFactory(code="yw-outlet", name="义乌折扣店", platform=Platform.TAOBAO)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    good = [_parcel(shop, yto, f"YT93000000{n:02d}") for n in range(40)]
    foreign = [_parcel(rival, yto, f"YT94000000{n:02d}") for n in range(2)]
    picked_up = _parcel(shop, yto, "YT9500000001", picked_up=True)
    extra = _parcel(shop, yto, "YT9600000001")
    elsewhere = _parcel(shop, yto, "YT9500000002")
    other_bag = services.bag_create(shop=shop, sorting_centre="SZ", by=clerk)
    services.bag_add_parcels(bag=other_bag, tracking_numbers=[elsewhere.tracking_no], by=clerk)
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=clerk)

    numbers = [p.tracking_no.lower() if i % 5 == 0 else p.tracking_no for i, p in enumerate(good)]  # 8 lowercase
    numbers[10:10] = [good[0].tracking_no, "YT0000000000", good[3].tracking_no.lower()]  # 2 duplicates, 1 unknown
    numbers[25:25] = [foreign[0].tracking_no, "NOPE-1", picked_up.tracking_no, foreign[1].tracking_no]
    numbers += [elsewhere.tracking_no, good[7].tracking_no, "nope-2"]
    assert len(numbers) == 50

    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.add_init_script(RECORD_SIGNALS)
    log_in(page, live_server, *CLERK, next_path=reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))

    _scan_burst(page, numbers)
    _wait_for_log(page, 50)

    outcomes = Counter(page.locator("#scan-log tr.scan-result").evaluate_all("rows => rows.map(r => r.dataset.outcome)"))
    assert outcomes == {
        "added": 40,
        "already_in_this_bag": 3,
        "unknown": 3,
        "other_shop": 2,
        "handed_over": 1,
        "in_other_bag": 1,
    }
    # Newest first: the last number scanned heads the log.
    assert page.locator("#scan-log tr.scan-result").first.inner_text().count("NOPE-2") == 1
    assert page.locator("#parcel-count").inner_text() == "40 / 300"
    assert page.locator("#bag-parcels-count").inner_text() == "40"
    assert page.locator("#bag-parcels-table tbody tr").count() == 40  # the bag's list grew without a reload
    assert page.locator("#parcel-weight").inner_text() == "32.00 / 50 kg"
    assert (page.locator("#scan-added").inner_text(), page.locator("#scan-refused").inner_text()) == ("40", "10")
    assert "handed over" in page.locator("#scan-log tr[data-outcome=handed_over]").inner_text().lower()
    assert other_bag.number in page.locator("#scan-log tr[data-outcome=in_other_bag]").inner_text()
    in_bag = set(ConsolidationBag.objects.get(pk=bag.pk).items.values_list("parcel__tracking_no", flat=True))
    assert in_bag == {p.tracking_no for p in good}
    assert page.evaluate("document.activeElement.id") == "id_tracking_numbers"
    assert page.locator("#id_tracking_numbers").input_value() == ""
    assert _fits_the_screen(page)

    # What the clerk hears and sees: a high beep and a green flash when added, low and red when not.
    page.evaluate("window.__beeps.length = 0; window.__flashes.length = 0")
    _scan_burst(page, [extra.tracking_no])
    _wait_for_log(page, 51)
    assert page.evaluate("[window.__beeps, window.__flashes]") == [[1320], ["pc-flash-added"]]
    _scan_burst(page, ["NOPE-3"])
    _wait_for_log(page, 52)
    assert page.evaluate("[window.__beeps, window.__flashes]") == [[1320, 220], ["pc-flash-added", "pc-flash-refused"]]
    page.wait_for_timeout(600)  # the red flash fades
    page.screenshot(path=str(screenshots / "bag-scan-en.png"))

    # The same page in Chinese, from the site's language switch: the log survives the reload.
    page.click("#language-switch button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.locator("#scan-log tr.scan-result").count() == 52
    assert page.locator("#scan-log tr.scan-result").first.inner_text().split()[-1] == "未知运单号。"  # NOPE-3, in Chinese now
    _scan_burst(page, ["YT9999999999", good[1].tracking_no])
    _wait_for_log(page, 54)
    assert "未知" in page.locator("#scan-log tr.scan-result").nth(1).inner_text()
    assert _fits_the_screen(page)
    page.wait_for_timeout(600)
    page.screenshot(path=str(screenshots / "bag-scan-zh.png"))
    assert violations == []


def test_a_lazada_parcel_not_ready_is_marked_ready_to_ship_from_the_scan_log(page, live_server, screenshots):
    clerk = make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="lz-my", name="Lazada MY", platform=Platform.LAZADA)
    parcel = _parcel(shop, CarrierFactory(code="JT"), "JT5000000001", shipped=True)
    bag = services.bag_create(shop=shop, sorting_centre="YW", by=clerk)
    log_in(page, live_server, *CLERK, next_path=reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))

    _scan_burst(page, [parcel.tracking_no.lower()])
    _wait_for_log(page, 1)
    row = page.locator("#scan-log tr[data-outcome=not_ready_to_ship]")
    assert "ready to ship" in row.inner_text()
    row.locator("button.pc-rts-button").click()
    page.wait_for_selector("#scan-log tr[data-outcome=added]")

    assert page.locator("#parcel-count").inner_text() == "1 / 300"
    parcel.refresh_from_db()
    assert parcel.rts_at is not None and bag.items.get().parcel == parcel


def test_without_javascript_the_form_still_scans_and_shows_the_log(browser, live_server, screenshots):
    clerk = make_user(CLERK, "Warehouse")
    shop = ShopFactory(code="hz-flagship", name="杭州旗舰店", platform=Platform.TMALL)
    yto = CarrierFactory(code="YTO", name="圆通速递")
    parcels = [_parcel(shop, yto, f"YT97000000{n:02d}") for n in range(3)]
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=clerk)
    context = browser.new_context(java_script_enabled=False, locale="en-GB", viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    try:
        log_in(page, live_server, *CLERK, next_path=reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
        # Without the script, Enter is a new line in the box; the clerk sends the lot with the button.
        page.click("#id_tracking_numbers")
        for number in [parcels[0].tracking_no.lower(), parcels[1].tracking_no, "NOPE-9", parcels[0].tracking_no]:
            page.keyboard.type(number, delay=5)
            page.keyboard.press("Enter")
        with page.expect_navigation():
            page.click("input[name=_scan]")

        assert page.url.endswith(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))  # redirected back
        outcomes = page.locator("#scan-log tr.scan-result").evaluate_all("rows => rows.map(r => r.dataset.outcome)")
        assert outcomes == ["already_in_this_bag", "unknown", "added", "added"]  # newest first
        assert "Already in this bag." in page.locator("#scan-last").inner_text()
        assert page.locator("#parcel-count").inner_text() == "2 / 300"
        assert page.locator("#scan-added").inner_text() == "2"
        page.screenshot(path=str(screenshots / "bag-scan-no-javascript.png"))
    finally:
        context.close()
    assert set(bag.items.values_list("parcel__tracking_no", flat=True)) == {parcels[0].tracking_no, parcels[1].tracking_no}
