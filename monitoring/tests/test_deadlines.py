"""monitoring.deadlines: every deadline column from the parcel's policy, in sets."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fulfillment.models import Parcel
from fulfillment.parcel_state import rederive
from fulfillment.tests.factories import HolidayFactory, OrderFactory, ParcelFactory, RegionFactory, ShopFactory
from monitoring.deadlines import DEADLINE_FIELDS, recompute_deadlines
from monitoring.models import SlaPolicy
from monitoring.tests.factories import RouteStandardFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
H = datetime.timedelta(hours=1)


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SH)


def parcel(platform="tmall", tier="mall", paid_at=None, tz="Asia/Shanghai", order=None, **fields) -> Parcel:
    shop = ShopFactory(code=f"{platform}-{tier}-{tz}", platform=platform, seller_tier=tier, timezone=tz)
    order = order or OrderFactory(shop=shop, paid_at=paid_at or at(2026, 3, 2, 10, 0), amount=Decimal("200.00"))
    return ParcelFactory(order=order, **fields)


def recomputed(p: Parcel) -> Parcel:
    recompute_deadlines(parcel_ids=[p.pk])
    p.refresh_from_db()
    return p


def test_tmall_hour_deadlines():
    p = recomputed(parcel(picked_up=True))
    paid = p.paid_at
    assert p.ship_due_at == paid + 24 * H
    assert (p.pickup_warn_at, p.pickup_due_at) == (paid + 40 * H, paid + 48 * H)
    assert (p.update_warn_at, p.update_due_at) == (p.picked_up_at + 16 * H, p.picked_up_at + 24 * H)
    assert p.sorting_due_at is None
    assert p.delivery_due_at is None  # not out for delivery
    assert p.route_due_at is None  # no route standard
    assert p.stagnation_due_at == p.last_event_at + 72 * H
    assert p.stagnation_warn_at == p.last_event_at + 64 * H


def test_not_picked_up_has_no_update_or_stagnation_deadline():
    p = recomputed(parcel(shipped=True))
    assert p.update_due_at is None and p.update_warn_at is None
    assert p.stagnation_due_at is None


@pytest.mark.parametrize(
    ("paid_at", "ship_hours"),
    [
        (at(2022, 5, 31, 19, 59, 59), 24),  # a second before the window
        (at(2022, 5, 31, 20, 0, 0), 48),  # its first second
        (at(2022, 6, 20, 23, 59, 59), 48),  # its last second
        (at(2022, 6, 21, 0, 0, 0), 24),  # a second after
    ],
)
def test_taobao_618_window(paid_at, ship_hours):
    p = recomputed(parcel(platform="taobao", tier="marketplace", paid_at=paid_at))
    assert p.ship_due_at == paid_at + ship_hours * H
    assert p.pickup_due_at == paid_at + 48 * H  # the other rules are the defaults


def test_tmall_not_affected_by_618():
    p = recomputed(parcel(platform="tmall", paid_at=at(2022, 6, 1, 10, 0)))
    assert p.ship_due_at == at(2022, 6, 2, 10, 0)


def test_delivery_due_20h_next_local_day():
    # Out for delivery at 23:30 local (15:30 UTC): due 20:00 local the next day.
    p = recomputed(parcel(picked_up=True, out_for_delivery_at=at(2026, 3, 3, 23, 30)))
    assert p.delivery_due_at == at(2026, 3, 4, 20, 0)
    p = recomputed(parcel(picked_up=True, out_for_delivery_at=at(2026, 3, 4, 0, 30)))
    assert p.delivery_due_at == at(2026, 3, 5, 20, 0)


def test_route_due_standard_days_plus_three():
    RouteStandardFactory(origin_province="浙江省", dest_province="广东省", days=2)
    RouteStandardFactory(origin_province="浙江省", dest_province="新疆维吾尔自治区", days=6)
    near = recomputed(parcel(picked_up=True))
    far_order = OrderFactory(shop=near.shop, dest_province="新疆维吾尔自治区", dest_city="乌鲁木齐市")
    far = recomputed(ParcelFactory(order=far_order, picked_up=True))
    nowhere = recomputed(ParcelFactory(order=OrderFactory(shop=near.shop, dest_province="海外"), picked_up=True))
    assert near.route_due_at == near.picked_up_at + datetime.timedelta(days=5)
    assert far.route_due_at == far.picked_up_at + datetime.timedelta(days=9)
    assert nowhere.route_due_at is None


@pytest.mark.parametrize(
    ("regions", "dest", "hours"),
    [
        ([], ("广东省", "深圳市"), 72),
        ([("西藏自治区", "", True)], ("西藏自治区", "拉萨市"), 96),  # remote province
        ([("四川省", "甘孜藏族自治州", True)], ("四川省", "甘孜藏族自治州"), 96),  # remote city
        ([("四川省", "甘孜藏族自治州", True)], ("四川省", "成都市"), 72),  # another city of that province
        ([("广东省", "", False)], ("广东省", "深圳市"), 72),
    ],
)
def test_stagnation_remote(regions, dest, hours):
    for province, city, remote in regions:
        RegionFactory(province=province, city=city, is_remote=remote)
    shop = ShopFactory(code="s1", platform="tmall")
    p = recomputed(
        ParcelFactory(order=OrderFactory(shop=shop, dest_province=dest[0], dest_city=dest[1]), picked_up=True)
    )
    assert p.stagnation_due_at == p.last_event_at + hours * H
    assert p.stagnation_warn_at == p.last_event_at + (hours - 8) * H


@pytest.mark.parametrize(
    ("paid_at", "ship_due", "sorting_due"),
    [
        (at(2026, 9, 30, 10, 0), at(2026, 10, 2, 23, 59, 59), at(2026, 10, 5, 23, 59, 59)),
        # 00:30 local is the previous day in UTC: the order day is the local one.
        (at(2026, 9, 30, 0, 30), at(2026, 10, 2, 23, 59, 59), at(2026, 10, 5, 23, 59, 59)),
        (at(2026, 9, 30, 23, 59, 59), at(2026, 10, 2, 23, 59, 59), at(2026, 10, 5, 23, 59, 59)),
    ],
)
def test_lazada_marketplace_calendar_days(national_day, paid_at, ship_due, sorting_due):
    p = recomputed(parcel(platform="lazada", tier="marketplace", paid_at=paid_at))
    assert (p.ship_due_at, p.sorting_due_at) == (ship_due, sorting_due)
    assert p.pickup_due_at is None and p.update_due_at is None and p.route_due_at is None


@pytest.fixture
def national_day():
    for day in range(1, 8):
        HolidayFactory(date=datetime.date(2026, 10, day), is_working_day=False)
    HolidayFactory(date=datetime.date(2026, 10, 10), is_working_day=True, name="make-up")


@pytest.mark.parametrize(
    ("paid_at", "ship_due", "sorting_due"),
    [
        # Wednesday before the holiday: 1st working day 8 Oct; 3rd the make-up Saturday 10 Oct.
        (at(2026, 9, 30, 10, 0), at(2026, 10, 8, 23, 59, 59), at(2026, 10, 10, 23, 59, 59)),
        (at(2026, 10, 9, 10, 0), at(2026, 10, 10, 23, 59, 59), at(2026, 10, 13, 23, 59, 59)),
        # Ordered on the make-up Saturday: that day does not count.
        (at(2026, 10, 10, 9, 0), at(2026, 10, 12, 23, 59, 59), at(2026, 10, 14, 23, 59, 59)),
        (at(2026, 10, 3, 9, 0), at(2026, 10, 8, 23, 59, 59), at(2026, 10, 10, 23, 59, 59)),
    ],
)
def test_lazada_mall_working_days(national_day, paid_at, ship_due, sorting_due):
    p = recomputed(parcel(platform="lazada", tier="mall", paid_at=paid_at))
    assert (p.ship_due_at, p.sorting_due_at) == (ship_due, sorting_due)


def test_lazada_in_shop_time_zone(national_day):
    # 2026-09-30 23:30 in Bangkok (UTC+7) is already 1 October in Shanghai: Bangkok's day counts.
    bangkok = ZoneInfo("Asia/Bangkok")
    p = recomputed(
        parcel(
            platform="lazada",
            tier="marketplace",
            tz="Asia/Bangkok",
            paid_at=datetime.datetime(2026, 9, 30, 23, 30, tzinfo=bangkok),
        )
    )
    assert p.ship_due_at == datetime.datetime(2026, 10, 2, 23, 59, 59, tzinfo=bangkok)


def test_set_of_many_days_and_policies_in_few_queries(django_assert_max_num_queries, national_day):
    parcels = [
        parcel(platform=platform, tier=tier, paid_at=at(2026, 9, 20, 10) + datetime.timedelta(days=i))
        for i in range(25)
        for platform, tier in (("lazada", "mall"), ("tmall", "mall"))
    ]
    with django_assert_max_num_queries(60):
        recompute_deadlines(parcel_ids=[p.pk for p in parcels])
    for p in parcels:
        p.refresh_from_db()
        assert p.ship_due_at is not None


def test_policy_change_and_recompute_everything():
    p = recomputed(parcel())
    SlaPolicy.objects.filter(code="tmall").update(pickup_due_hours=72, pickup_warn_hours=None)
    recompute_deadlines()
    p.refresh_from_db()
    assert p.pickup_due_at == p.paid_at + 72 * H
    assert p.pickup_warn_at == p.pickup_due_at  # no separate warning: warning and due coincide


def test_no_active_policy_clears_deadlines():
    p = recomputed(parcel())
    SlaPolicy.objects.filter(platform="tmall").update(is_active=False)
    p = recomputed(p)
    assert p.ship_due_at is None and p.pickup_due_at is None and p.stagnation_due_at is None


def test_the_derivation_step_computes_deadlines():
    p = parcel(picked_up=True)
    assert p.pickup_due_at is None
    rederive(parcel_ids=[p.pk], reason="events")
    p.refresh_from_db()
    assert p.pickup_due_at == p.paid_at + 48 * H


def test_other_parcels_untouched():
    p, other = parcel(), parcel()
    recompute_deadlines(parcel_ids=[p.pk])
    other.refresh_from_db()
    assert other.ship_due_at is None


def test_recompute_deadlines_command():
    from io import StringIO

    from django.core.management import call_command

    p = parcel()
    done = parcel(status="delivered")
    out = StringIO()
    call_command("recompute_deadlines", "--unfinished", stdout=out)
    p.refresh_from_db()
    done.refresh_from_db()
    assert p.pickup_due_at == p.paid_at + 48 * H
    assert done.pickup_due_at is None
    assert "1 parcel" in out.getvalue()


def test_unchanged_deadlines_are_not_rewritten(national_day):
    parcels = [
        parcel(picked_up=True, out_for_delivery_at=at(2026, 3, 3, 9)),
        parcel(platform="lazada", tier="mall", paid_at=at(2026, 9, 30, 10)),
        parcel(platform="taobao", tier="marketplace", paid_at=at(2022, 6, 1, 10)),
    ]
    RegionFactory(province="广东省", city="深圳市", is_remote=True)
    RouteStandardFactory(origin_province="浙江省", dest_province="广东省", days=2)
    ids = [p.pk for p in parcels]
    assert recompute_deadlines(parcel_ids=ids) == 3
    assert recompute_deadlines(parcel_ids=ids) == 0  # same inputs: nothing written
    Parcel.objects.filter(pk=ids[0]).update(last_event_at=at(2026, 3, 3, 12))
    assert recompute_deadlines(parcel_ids=ids) == 1
    SlaPolicy.objects.filter(platform="tmall").update(is_active=False)
    assert recompute_deadlines(parcel_ids=ids) == 1  # its deadlines cleared
    assert recompute_deadlines(parcel_ids=ids) == 0


def _deadlines(parcels) -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in Parcel.objects.filter(pk__in=[p.pk for p in parcels]).values_list("pk", *DEADLINE_FIELDS)
    }


def test_batch_of_ids_matches_the_set_recompute():
    """The derivation step (on the drafts) and the ids path (sorted to policies in Python) write what
    the SQL-set path writes."""
    RegionFactory(province="Xinjiang", city="", is_remote=True)
    HolidayFactory(date=datetime.date(2026, 3, 3), is_working_day=False)
    mixed = [
        parcel("tmall", "mall", picked_up=True),
        parcel("tmall", "marketplace", shipped=True),
        parcel("taobao", "marketplace", paid_at=at(2022, 6, 1, 9, 0), picked_up=True),  # 618 campaign
        parcel("taobao", "marketplace", paid_at=at(2022, 6, 21, 0, 0), picked_up=True),  # just after it
        parcel("lazada", "mall", tz="Asia/Manila", ready=True),
        parcel("lazada", "marketplace", tz="Asia/Kuala_Lumpur", picked_up=True),
        parcel("lazada", "marketplace", tz="Asia/Manila", paid_at=at(2026, 3, 2, 23, 30)),
    ]
    remote = parcel("tmall", "mall", picked_up=True)
    remote.order.origin_province, remote.order.dest_province = "Zhejiang", "Xinjiang"
    remote.order.save()
    RouteStandardFactory(origin_province="Zhejiang", dest_province="Xinjiang", days=4)
    out = parcel("tmall", "mall", picked_up=True)
    Parcel.objects.filter(pk=out.pk).update(out_for_delivery_at=at(2026, 3, 3, 9, 0))
    mixed += [remote, out]

    rederive(parcel_ids=[p.pk for p in mixed], reason="events")
    by_batch = _deadlines(mixed)
    Parcel.objects.update(ship_due_at=None, route_due_at=None, stagnation_due_at=at(2000, 1, 1, 0, 0))
    recompute_deadlines(parcels=Parcel.objects.all())
    assert _deadlines(mixed) == by_batch
    assert all(any(v is not None for v in row) for row in by_batch.values())
    assert by_batch[remote.pk][7] is not None  # route standard applied

    SlaPolicy.objects.filter(platform="lazada").update(is_active=False)  # Lazada parcels lose their deadlines
    recompute_deadlines(parcel_ids=[p.pk for p in mixed])
    by_batch = _deadlines(mixed)
    recompute_deadlines(parcels=Parcel.objects.all())
    assert _deadlines(mixed) == by_batch
    assert by_batch[mixed[4].pk] == (None,) * len(DEADLINE_FIELDS)


def test_hour_deadlines_keep_the_fraction_of_a_second_and_cross_month_and_year_ends():
    """The deadline is the exact instant, as stored (SQLite adds the hours with its own date function)."""
    paid = datetime.datetime(2026, 12, 31, 23, 30, 15, 123456, tzinfo=datetime.UTC)
    picked = datetime.datetime(2027, 2, 28, 20, 0, 0, 999999, tzinfo=datetime.UTC)
    p = recomputed(parcel(paid_at=paid, picked_up=True, picked_up_at=picked, last_event_at=picked))
    assert p.ship_due_at == paid + 24 * H == datetime.datetime(2027, 1, 1, 23, 30, 15, 123456, tzinfo=datetime.UTC)
    assert p.pickup_due_at == paid + 48 * H
    assert p.update_due_at == picked + 24 * H == datetime.datetime(2027, 3, 1, 20, 0, 0, 999999, tzinfo=datetime.UTC)
    assert p.stagnation_due_at == picked + 72 * H
    # Stored exactly as Django writes the value itself: an equality filter finds it.
    assert Parcel.objects.filter(pk=p.pk, ship_due_at=paid + 24 * H, update_due_at=picked + 24 * H).exists()
