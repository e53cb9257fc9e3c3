"""Unusual order volume: at least 5× the median of the previous 14 days and at least 100 paid orders
in a local day, outside any campaign window (medians computed by hand below)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fulfillment.models import Order
from fulfillment.tests.factories import ShopFactory
from monitoring.models import OrderSpikeThreshold, ShopAlert, SlaPolicy
from monitoring.services import scan
from monitoring.spikes import shop_alert_review

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 3, 20)  # the day judged
BASELINE = [10, 12, 8, 20, 15, 11, 9, 14, 13, 10, 16, 12, 0, 18]  # 14 days before DAY, oldest first
# sorted: 0 8 9 10 10 11 12 | 12 13 14 15 16 18 20 → median (12 + 12) / 2 = 12


def orders(shop, day: datetime.date, count: int, *, hour=9):
    at = datetime.datetime.combine(day, datetime.time(hour), tzinfo=SH)
    Order.objects.bulk_create(
        Order(shop=shop, platform=shop.platform, seller_tier=shop.seller_tier, order_id=f"{shop.code}-{day}-{hour}-{n}",
              paid_at=at + datetime.timedelta(seconds=n), amount=Decimal("50"))
        for n in range(count)
    )


def history(shop, counts, *, until=DAY):
    for back, count in enumerate(reversed(counts), start=1):
        orders(shop, until - datetime.timedelta(days=back), count)


def spikes():
    return list(ShopAlert.objects.values_list("shop__code", "day", "orders", "median"))


def late(day):
    return datetime.datetime.combine(day, datetime.time(23, 0), tzinfo=SH)


@pytest.fixture
def shop():
    return ShopFactory(code="lz-spike", platform="lazada", seller_tier="marketplace")


def test_at_least_100_orders_when_five_times_the_median_is_less(shop):
    history(shop, BASELINE)
    orders(shop, DAY, 99)
    scan(now=late(DAY))
    assert spikes() == []  # 99 ≥ 5 × 12 = 60, but under 100
    orders(shop, DAY, 1, hour=22)
    scan(now=late(DAY))
    assert spikes() == [("lz-spike", DAY, 100, Decimal("12.0"))]


def test_five_times_the_median_when_that_is_more_than_100(shop):
    history(shop, [30] * 7 + [20] * 3 + [40] * 4)  # sorted: 20 20 20 30 30 30 30 | 30 30 30 40 40 40 40 → 30
    orders(shop, DAY, 149)
    scan(now=late(DAY))
    assert spikes() == []  # 149 < 5 × 30
    orders(shop, DAY, 1, hour=22)
    scan(now=late(DAY))
    assert spikes() == [("lz-spike", DAY, 150, Decimal("30.0"))]


def test_a_campaign_day_raises_nothing_and_the_next_ordinary_day_does(shop):
    SlaPolicy.objects.create(
        code="lazada-payday", name="Lazada payday sale", platform="lazada", is_active=False,
        campaign_starts_at=datetime.datetime(2026, 3, 20, 0, 0, tzinfo=SH),
        campaign_ends_at=datetime.datetime(2026, 3, 20, 23, 59, 59, tzinfo=SH),
    )
    history(shop, BASELINE)
    orders(shop, DAY, 150)
    scan(now=late(DAY))
    assert spikes() == []  # inside the campaign window
    next_day = DAY + datetime.timedelta(days=1)
    orders(shop, next_day, 150)
    scan(now=late(next_day))
    # Baseline now drops the oldest day (10) and takes the campaign day (150):
    # 0 8 9 10 11 12 12 | 13 14 15 16 18 20 150 → (12 + 13) / 2 = 12.5
    assert spikes() == [("lz-spike", next_day, 150, Decimal("12.5"))]


def test_orders_paid_after_now_are_not_counted_and_a_rescan_updates_the_count(shop):
    history(shop, BASELINE)
    orders(shop, DAY, 120, hour=9)
    orders(shop, DAY, 30, hour=20)
    scan(now=datetime.datetime.combine(DAY, datetime.time(12), tzinfo=SH))
    assert spikes() == [("lz-spike", DAY, 120, Decimal("12.0"))]
    first = ShopAlert.objects.get()
    scan(now=late(DAY))
    again = ShopAlert.objects.get()  # one alert per shop and day
    assert (again.pk, again.orders, again.raised_at) == (first.pk, 150, first.raised_at)


def test_the_day_before_is_judged_too_and_a_quiet_shop_is_not(shop):
    quiet = ShopFactory(code="tm-quiet", platform="tmall")
    history(shop, BASELINE)
    history(quiet, BASELINE)
    orders(shop, DAY, 150, hour=23)
    orders(quiet, DAY, 20)
    scan(now=datetime.datetime.combine(DAY + datetime.timedelta(days=1), datetime.time(0, 5), tzinfo=SH))
    assert spikes() == [("lz-spike", DAY, 150, Decimal("12.0"))]


def test_the_thresholds_are_data(shop):
    OrderSpikeThreshold.objects.update(factor=Decimal("3"), min_orders=40)
    history(shop, BASELINE)
    orders(shop, DAY, 40)
    scan(now=late(DAY))
    assert spikes() == [("lz-spike", DAY, 40, Decimal("12.0"))]  # 40 ≥ 3 × 12 and ≥ 40


def test_a_manager_reviews_it_once(shop, manager_user):
    history(shop, BASELINE)
    orders(shop, DAY, 150)
    scan(now=late(DAY))
    alert = ShopAlert.objects.get()
    assert shop_alert_review(alert=alert, by=manager_user) is True
    assert shop_alert_review(alert=alert, by=manager_user) is False
    alert.refresh_from_db()
    assert alert.resolved_by == manager_user and alert.resolved_at is not None
    scan(now=late(DAY))
    assert ShopAlert.objects.get().resolved_at == alert.resolved_at  # not raised again


def test_managers_mark_spikes_reviewed_in_the_admin_and_clerks_see_none(shop, manager_client, client, warehouse_user):
    from django.urls import reverse

    history(shop, BASELINE)
    orders(shop, DAY, 150)
    scan(now=late(DAY))
    url = reverse("admin:monitoring_shopalert_changelist")
    alert = ShopAlert.objects.get()

    response = manager_client.post(url, {"action": "mark_reviewed", "_selected_action": [alert.pk]}, follow=True)

    assert "1 alert marked reviewed." in response.content.decode()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    client.force_login(warehouse_user)
    assert client.get(url).status_code == 403


def test_a_new_shop_is_compared_with_the_days_it_has_been_selling(shop):
    """Days before the shop's first order are no zero days: 40, 45, 50 → median 45, and 150 < 5 × 45.
    The shop's very first day has nothing to compare with."""
    history(shop, [40, 45, 50])
    orders(shop, DAY, 150)
    scan(now=late(DAY))
    assert spikes() == []
    newcomer = ShopFactory(code="tb-new", platform="taobao", seller_tier="marketplace")
    orders(newcomer, DAY, 500)
    scan(now=late(DAY))
    assert spikes() == []


def test_a_shop_with_older_orders_counts_its_quiet_days_as_zero(shop):
    orders(shop, DAY - datetime.timedelta(days=20), 30)  # before the 14 days: they all count, as 0
    history(shop, [0] * 10 + [5, 5, 5, 5])  # sorted: ten 0s, four 5s → median 0
    orders(shop, DAY, 100)
    scan(now=late(DAY))
    assert spikes() == [("lz-spike", DAY, 100, Decimal("0"))]
