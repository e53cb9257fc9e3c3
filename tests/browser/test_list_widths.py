"""The bag and sheet lists fit a 1366 px screen (issue "The clerk's day": lists were cut off)."""

import datetime

import pytest
from django.utils import timezone

from fulfillment.models import Platform
from fulfillment.tests.factories import CarrierFactory, ShopFactory
from pickups.tests.factories import HandoverSheetFactory, PickupCoverageFactory
from tests.browser.conftest import log_in
from tests.browser.data import CLERK, make_user
from tests.browser.test_pickups import sealed_bags_for, switch_language

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_bag_and_sheet_lists_fit_1366_pixels(page, live_server, screenshots, language):
    make_user(CLERK, "Warehouse")
    yto = CarrierFactory(code="YTO", name="圆通速递")
    for code, name in (("hz-flagship", "杭州旗舰店（天猫）"), ("yw-outlet-lazada-my", "Yiwu Outlet Lazada Malaysia")):
        shop = ShopFactory(code=code, name=name, platform=Platform.TMALL)
        PickupCoverageFactory(province=shop.pickup_province, city=shop.pickup_city)
        sealed_bags_for(shop, yto, 2)
        start = timezone.now() + datetime.timedelta(hours=3)
        HandoverSheetFactory(shop=shop, carrier=yto, window_start=start, window_end=start + datetime.timedelta(hours=2))
    log_in(page, live_server, *CLERK)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/admin/pickups/consolidationbag/")
    if language != "en":
        switch_language(page, language)
    for name, path in (("bags", "consolidationbag"), ("sheets", "handoversheet")):
        page.goto(f"{live_server.url}/admin/pickups/{path}/")
        page.screenshot(path=str(screenshots / f"list-{name}-{language}.png"))
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the {name} list is {overflow} px too wide"
        table = page.locator("#result_list").bounding_box()
        assert table["x"] + table["width"] <= page.locator("#changelist-filter").bounding_box()["x"]
