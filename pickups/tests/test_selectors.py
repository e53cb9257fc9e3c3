import datetime

import pytest
from django.utils import timezone

from fulfillment.tests.factories import OrderFactory, ShopFactory
from pickups.selectors import pickup_coverage_covers, shop_free_pickup_eligibility
from pickups.tests.factories import PickupCoverageFactory

pytestmark = pytest.mark.django_db


def test_coverage_by_city_or_whole_province():
    PickupCoverageFactory(province="广东省", city="深圳市")
    PickupCoverageFactory(province="浙江省", city="")
    assert pickup_coverage_covers(province="广东省", city="深圳市")
    assert not pickup_coverage_covers(province="广东省", city="东莞市")
    assert pickup_coverage_covers(province="浙江省", city="温州市")
    assert not pickup_coverage_covers(province="", city="深圳市")


@pytest.mark.parametrize(("orders", "qualifies"), [(1500, True), (1499, False)])
def test_free_pickup_needs_50_orders_a_day_over_30_days(orders, qualifies):
    now = timezone.now()
    shop = ShopFactory(code="busy")
    OrderFactory.create_batch(orders, shop=shop, paid_at=now - datetime.timedelta(days=3))
    OrderFactory(shop=shop, paid_at=now - datetime.timedelta(days=31))  # outside the window
    eligibility = shop_free_pickup_eligibility(shop=shop, now=now)
    assert eligibility.orders == orders
    assert eligibility.qualifies is qualifies
