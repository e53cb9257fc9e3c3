import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from fulfillment.models import EventCode, Platform
from fulfillment.tests.factories import (
    CarrierFactory,
    CarrierOutletFactory,
    OrderFactory,
    ParcelFactory,
    RegionFactory,
    ShopFactory,
    TrackingEventFactory,
)
from monitoring import selectors
from monitoring.models import AlertKind, AlertLevel
from monitoring.tests.factories import AlertFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def q(text: str = "") -> QueryDict:
    return QueryDict(text)


def parcel(shop=None, *, paid_at, picked_up_at=None, last_event_at=None, outlet=None, carrier=None, **order_fields):
    order = OrderFactory(shop=shop or ShopFactory(), paid_at=paid_at, **order_fields)
    return ParcelFactory(
        order=order,
        shipped=True,
        carrier=carrier or CarrierFactory(code="YTO"),
        picked_up_at=picked_up_at,
        last_event_at=last_event_at,
        outlet=outlet,
    )


# --- Overview ---------------------------------------------------------------------------------------------


def test_overview_counts_open_alerts_by_kind_and_level_and_ignores_resolved():
    AlertFactory.create_batch(2, kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.WARNING, raised_at=NOW)
    AlertFactory(kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.OVERDUE, raised_at=NOW)
    AlertFactory(kind=AlertKind.STAGNATION, level=AlertLevel.OVERDUE, raised_at=NOW)
    AlertFactory(kind=AlertKind.STAGNATION, level=AlertLevel.OVERDUE, raised_at=NOW, resolved_at=NOW)

    overview = selectors.dashboard_overview(now=NOW)

    rows = {r["kind"]: (r["warning"], r["overdue"], r["total"]) for r in overview.by_kind}
    assert rows == {AlertKind.PICKUP_OVERDUE: (2, 1, 3), AlertKind.STAGNATION: (0, 1, 1)}
    assert overview.total_open == 4
    assert overview.total_overdue == 2


def test_overview_due_soon_is_the_next_eight_hours_only():
    soon = AlertFactory(due_at=NOW + datetime.timedelta(hours=7, minutes=59), raised_at=NOW)
    AlertFactory(due_at=NOW + datetime.timedelta(hours=8, minutes=1), raised_at=NOW)  # later
    AlertFactory(due_at=NOW - datetime.timedelta(minutes=1), raised_at=NOW)  # already overdue
    AlertFactory(due_at=NOW + datetime.timedelta(hours=1), raised_at=NOW, resolved_at=NOW)  # resolved

    overview = selectors.dashboard_overview(now=NOW)

    assert [a.pk for a in overview.due_soon] == [soon.pk]
    assert overview.due_soon_count == 1


def test_overview_due_soon_counts_beyond_the_listed_rows():
    AlertFactory.create_batch(selectors.DUE_SOON_LIMIT + 3, due_at=NOW + datetime.timedelta(hours=2), raised_at=NOW)

    overview = selectors.dashboard_overview(now=NOW)

    assert len(overview.due_soon) == selectors.DUE_SOON_LIMIT
    assert overview.due_soon_count == selectors.DUE_SOON_LIMIT + 3


def test_compensation_at_risk_sums_open_alerts_only():
    AlertFactory(compensation_estimate=Decimal("9.95"), raised_at=NOW)
    AlertFactory(kind=AlertKind.UPDATE_OVERDUE, compensation_estimate=Decimal("59.70"), raised_at=NOW)
    AlertFactory(kind=AlertKind.STAGNATION, compensation_estimate=None, raised_at=NOW)
    AlertFactory(compensation_estimate=Decimal("100.00"), raised_at=NOW, resolved_at=NOW)

    assert selectors.dashboard_overview(now=NOW).compensation_at_risk == Decimal("69.65")


def test_daily_new_and_resolved_are_grouped_by_shanghai_date():
    # 2026-06-14 17:30 UTC is 06-15 01:30 in Shanghai: it belongs to the 15th, not the 14th.
    AlertFactory(raised_at=datetime.datetime(2026, 6, 14, 17, 30, tzinfo=UTC))
    AlertFactory(raised_at=datetime.datetime(2026, 6, 14, 15, 30, tzinfo=UTC))  # 06-14 23:30 local
    AlertFactory(
        raised_at=datetime.datetime(2026, 6, 10, 1, 0, tzinfo=UTC),
        resolved_at=datetime.datetime(2026, 6, 14, 16, 0, tzinfo=UTC),  # 06-15 00:00 local
    )
    AlertFactory(raised_at=datetime.datetime(2026, 5, 20, tzinfo=UTC))  # before the 14 days

    daily = selectors.dashboard_overview(now=NOW).daily

    assert len(daily) == 14
    assert daily[0]["day"] == datetime.date(2026, 6, 2)
    assert daily[-1]["day"] == datetime.date(2026, 6, 15)
    by_day = {d["day"]: (d["new"], d["resolved"]) for d in daily}
    assert by_day[datetime.date(2026, 6, 15)] == (1, 1)
    assert by_day[datetime.date(2026, 6, 14)] == (1, 0)
    assert by_day[datetime.date(2026, 6, 10)] == (1, 0)
    assert sum(d["new"] for d in daily) == 3


# --- Stalled and overdue parcels --------------------------------------------------------------------------


def tracking_numbers(queryset):
    return sorted(a.parcel.tracking_no for a in queryset)


def test_stalled_lists_open_alerts_soonest_due_first():
    later = AlertFactory(due_at=NOW + datetime.timedelta(hours=5), raised_at=NOW)
    first = AlertFactory(due_at=NOW - datetime.timedelta(hours=5), raised_at=NOW)
    AlertFactory(raised_at=NOW, resolved_at=NOW)

    _filterset, queryset = selectors.stalled_parcels(data=q(), now=NOW)

    assert list(queryset) == [first, later]


def test_stalled_filters_by_shop_platform_carrier_outlet_kind_and_level():
    shop_a = ShopFactory(code="a", platform=Platform.TMALL)
    shop_b = ShopFactory(code="b", platform=Platform.LAZADA)
    zto = CarrierFactory(code="ZTO")
    outlet = CarrierOutletFactory(carrier=zto, code="HZ01")
    target = AlertFactory(
        parcel=parcel(shop_a, paid_at=NOW, carrier=zto, outlet=outlet),
        kind=AlertKind.STAGNATION,
        level=AlertLevel.OVERDUE,
        raised_at=NOW,
    )
    AlertFactory(parcel=parcel(shop_b, paid_at=NOW), kind=AlertKind.STAGNATION, level=AlertLevel.OVERDUE, raised_at=NOW)
    AlertFactory(parcel=parcel(shop_a, paid_at=NOW), kind=AlertKind.PICKUP_OVERDUE, raised_at=NOW)

    def rows(text):
        return list(selectors.stalled_parcels(data=q(text), now=NOW)[1])

    assert rows(f"shop={shop_a.pk}&kind=stagnation") == [target]
    assert rows("platform=tmall&level=overdue") == [target]
    assert rows(f"carrier={zto.pk}") == [target]
    assert rows("outlet=HZ01") == [target]
    assert len(rows("kind=stagnation")) == 2
    assert rows("platform=taobao") == []


def test_stalled_filters_by_hours_since_last_valid_node():
    silent = AlertFactory(
        parcel=parcel(paid_at=NOW - datetime.timedelta(days=5), last_event_at=NOW - datetime.timedelta(hours=73)),
        raised_at=NOW,
    )
    AlertFactory(
        parcel=parcel(paid_at=NOW - datetime.timedelta(days=5), last_event_at=NOW - datetime.timedelta(hours=10)),
        raised_at=NOW,
    )
    # No valid node yet: counts from its payment, 80 h ago.
    unpicked = AlertFactory(parcel=parcel(paid_at=NOW - datetime.timedelta(hours=80)), raised_at=NOW)

    _f, queryset = selectors.stalled_parcels(data=q("min_hours=72"), now=NOW)

    assert sorted(a.pk for a in queryset) == sorted([silent.pk, unpicked.pk])


def test_stalled_filters_by_remote_destination_province_or_city():
    RegionFactory(province="西藏自治区", city="", is_remote=True)
    RegionFactory(province="四川省", city="甘孜藏族自治州", is_remote=True)
    RegionFactory(province="四川省", city="", is_remote=False)
    tibet = AlertFactory(parcel=parcel(paid_at=NOW, dest_province="西藏自治区", dest_city="拉萨市"), raised_at=NOW)
    ganzi = AlertFactory(parcel=parcel(paid_at=NOW, dest_province="四川省", dest_city="甘孜藏族自治州"), raised_at=NOW)
    chengdu = AlertFactory(parcel=parcel(paid_at=NOW, dest_province="四川省", dest_city="成都市"), raised_at=NOW)

    remote = selectors.stalled_parcels(data=q("remote=true"), now=NOW)[1]
    not_remote = selectors.stalled_parcels(data=q("remote=false"), now=NOW)[1]

    assert sorted(a.pk for a in remote) == sorted([tibet.pk, ganzi.pk])
    assert [a.pk for a in not_remote] == [chengdu.pk]


def test_stalled_filters_by_due_window():
    soon = AlertFactory(due_at=NOW + datetime.timedelta(hours=3), raised_at=NOW)
    AlertFactory(due_at=NOW + datetime.timedelta(hours=9), raised_at=NOW)
    AlertFactory(due_at=NOW - datetime.timedelta(hours=1), raised_at=NOW)

    assert list(selectors.stalled_parcels(data=q("due_within_hours=8"), now=NOW)[1]) == [soon]


def test_stalled_sorts_by_last_node_both_ways_and_ignores_unknown_sorts():
    old = AlertFactory(parcel=parcel(paid_at=NOW, last_event_at=NOW - datetime.timedelta(hours=90)), raised_at=NOW)
    new = AlertFactory(parcel=parcel(paid_at=NOW, last_event_at=NOW - datetime.timedelta(hours=2)), raised_at=NOW)
    no_node = AlertFactory(parcel=parcel(paid_at=NOW - datetime.timedelta(hours=100)), raised_at=NOW)

    # Same order on SQLite and PostgreSQL: parcels without a valid node last, or first when reversed.
    assert list(selectors.stalled_parcels(data=q("sort=last_node"), now=NOW)[1]) == [old, new, no_node]
    assert list(selectors.stalled_parcels(data=q("sort=-last_node"), now=NOW)[1]) == [no_node, new, old]
    assert len(selectors.stalled_parcels(data=q("sort=;drop"), now=NOW)[1]) == 3


def test_invalid_filter_value_is_reported_on_the_form():
    filterset, _qs = selectors.stalled_parcels(data=q("kind=nonsense"), now=NOW)

    assert not filterset.is_valid()
    assert "kind" in filterset.errors


def test_page_without_count_fetches_one_row_more_than_the_page():
    AlertFactory.create_batch(5, raised_at=NOW)
    queryset = selectors.stalled_parcels(data=q(), now=NOW)[1]

    first = selectors.page_without_count(queryset, number=1, size=2)
    last = selectors.page_without_count(queryset, number=3, size=2)

    assert len(first.rows) == 2 and first.has_next and not first.has_previous
    assert len(last.rows) == 1 and not last.has_next and last.has_previous


def test_export_rows_are_the_filtered_rows():
    AlertFactory.create_batch(3, kind=AlertKind.STAGNATION, raised_at=NOW)
    AlertFactory.create_batch(2, kind=AlertKind.PICKUP_OVERDUE, raised_at=NOW)
    queryset = selectors.stalled_parcels(data=q("kind=stagnation"), now=NOW)[1]

    rows = list(selectors.stalled_parcels_export(queryset=queryset))

    assert sorted(values["parcel__tracking_no"] for values, _alerts in rows) == tracking_numbers(queryset)
    assert {values["kind"] for values, _alerts in rows} == {"stagnation"}


# --- Indicators -------------------------------------------------------------------------------------------


def local(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 6, day, hour, minute, tzinfo=SH)


def event(p, at, code=EventCode.IN_TRANSIT):
    return TrackingEventFactory(parcel=p, occurred_at=at, code=code)


@pytest.fixture
def hand_made():
    """Four parcels paid on Monday 2026-06-01 (local), one on Tuesday, and another shop's parcel.

    48 h pickup: A (47 h) and D (2 h) yes, B (49 h) no, C never -> 2/4 on Monday; E (10 h) -> 1/1 Tuesday.
    24 h update (same cohort, by day of payment): A, picked up Wed 06-03 with a node 23 h later -> yes;
    B with only an `info` event inside 24 h and a valid node after 25 h -> no; D with a node 1 h
    after its pickup -> yes: 2/3 on Monday. E, picked up Tue 06-02 with no later node -> 0/1 on Tuesday.
    """
    shop = ShopFactory(code="hand", platform=Platform.TMALL)
    hz1 = CarrierOutletFactory(code="HZ1", star_rating=5)
    hz2 = CarrierOutletFactory(code="HZ2", star_rating=2)
    monday = local(1, 9)
    a = parcel(shop, paid_at=monday, picked_up_at=monday + datetime.timedelta(hours=47), outlet=hz1)
    b = parcel(shop, paid_at=monday, picked_up_at=monday + datetime.timedelta(hours=49), outlet=hz2)
    parcel(shop, paid_at=monday)  # C: never picked up
    d = parcel(shop, paid_at=monday, picked_up_at=monday + datetime.timedelta(hours=2), outlet=hz1)
    e = parcel(shop, paid_at=local(2, 8), picked_up_at=local(2, 18), outlet=hz2)
    for p in (a, b, d, e):
        event(p, p.picked_up_at, EventCode.PICKED_UP)
    event(a, a.picked_up_at + datetime.timedelta(hours=23))
    event(b, b.picked_up_at + datetime.timedelta(hours=3), EventCode.INFO)
    event(b, b.picked_up_at + datetime.timedelta(hours=25))
    event(d, d.picked_up_at + datetime.timedelta(hours=1))
    for p in (a, b, d, e):
        p.last_event_at = p.events.exclude(code=EventCode.INFO).latest("occurred_at").occurred_at
        p.save(update_fields=["last_event_at"])
    # Another shop's parcel, picked up within 48 h and updated: must not count.
    other = parcel(ShopFactory(code="other"), paid_at=monday, picked_up_at=monday + datetime.timedelta(hours=1))
    event(other, other.picked_up_at + datetime.timedelta(hours=1))
    return {"shop": shop, "hz1": hz1, "hz2": hz2}


def test_shop_indicators_per_day(hand_made):
    data = selectors.shop_indicators(
        shop=hand_made["shop"], date_from=datetime.date(2026, 6, 1), date_to=datetime.date(2026, 6, 3)
    )

    days = {row.label: row for row in data.days}
    assert [row.label for row in data.days] == [datetime.date(2026, 6, d) for d in (1, 2, 3)]
    monday, tuesday, wednesday = days[datetime.date(2026, 6, 1)], days[datetime.date(2026, 6, 2)], days[
        datetime.date(2026, 6, 3)
    ]
    assert (monday.paid, monday.picked_within_48h, monday.pickup_rate) == (4, 2, Decimal("0.5"))
    assert (tuesday.paid, tuesday.picked_within_48h, tuesday.pickup_rate) == (1, 1, Decimal("1"))
    assert wednesday.paid == 0 and wednesday.pickup_rate is None
    # The update rate of the same parcels: those picked up, updated within 24 h of their pickup.
    assert (monday.picked_up, monday.updated_within_24h, monday.update_rate) == (3, 2, Decimal("0.6667"))
    assert (tuesday.picked_up, tuesday.updated_within_24h, tuesday.update_rate) == (1, 0, Decimal("0"))
    assert (wednesday.picked_up, wednesday.update_rate) == (0, None)
    assert (data.total.pickup_rate, data.total.update_rate) == (Decimal("0.6"), Decimal("0.5"))
    assert data.targets == selectors.PLATFORM_TARGETS["tmall"]


def test_shop_indicators_per_week_runs_monday_to_sunday(hand_made):
    data = selectors.shop_indicators(
        shop=hand_made["shop"], date_from=datetime.date(2026, 5, 28), date_to=datetime.date(2026, 6, 8)
    )

    weeks = {row.label: row for row in data.weeks}
    assert list(weeks) == [datetime.date(2026, 5, 25), datetime.date(2026, 6, 1), datetime.date(2026, 6, 8)]
    assert weeks[datetime.date(2026, 5, 25)].paid == 0
    assert (weeks[datetime.date(2026, 6, 1)].paid, weeks[datetime.date(2026, 6, 1)].picked_within_48h) == (5, 3)
    assert (weeks[datetime.date(2026, 6, 1)].picked_up, weeks[datetime.date(2026, 6, 1)].updated_within_24h) == (4, 2)


def test_shop_indicators_use_the_shop_time_zone_for_days():
    shop = ShopFactory(code="late")
    # 00:30 on 06-02 in Shanghai is 16:30 UTC on 06-01: the parcel belongs to the 2nd.
    parcel(shop, paid_at=local(2, 0, 30))

    data = selectors.shop_indicators(shop=shop, date_from=datetime.date(2026, 6, 1), date_to=datetime.date(2026, 6, 2))

    assert [row.paid for row in data.days] == [0, 1]


def test_outlet_scorecards_rates_stars_and_shop_comparison(hand_made):
    cards = selectors.outlet_scorecards(
        shop=hand_made["shop"], date_from=datetime.date(2026, 6, 1), date_to=datetime.date(2026, 6, 3)
    )

    by_code = {row.outlet.code: row for row in cards.outlets}
    hz1, hz2 = by_code["HZ1"], by_code["HZ2"]
    assert (hz1.paid, hz1.picked_within_48h, hz1.picked_up, hz1.updated_within_24h) == (2, 2, 2, 2)
    assert (hz1.pickup_rate, hz1.update_rate, hz1.star_rating) == (Decimal("1"), Decimal("1"), 5)
    assert (hz2.paid, hz2.picked_within_48h, hz2.picked_up, hz2.updated_within_24h) == (2, 1, 2, 0)
    assert (hz2.pickup_rate, hz2.update_rate, hz2.star_rating) == (Decimal("0.5"), Decimal("0"), 2)
    # The shop as a whole includes the parcel not picked up (no outlet yet).
    assert (cards.shop_total.paid, cards.shop_total.pickup_rate) == (5, Decimal("0.6"))
    assert cards.shop_total.update_rate == Decimal("0.5")
    # Worst pickup rate first.
    assert [row.outlet.code for row in cards.outlets] == ["HZ2", "HZ1"]


def test_outlet_scorecards_limit_keeps_the_worst_outlets(hand_made):
    cards = selectors.outlet_scorecards(
        shop=hand_made["shop"], date_from=datetime.date(2026, 6, 1), date_to=datetime.date(2026, 6, 3), limit=1
    )

    assert [row.outlet.code for row in cards.outlets] == ["HZ2"]
    assert cards.outlet_count == 2
    assert cards.shop_total.paid == 5


def test_parcels_inside_their_window_are_pending_not_failures():
    """At NOW: paid 10 h ago and not picked up yet is pending; 50 h ago and not picked up is late."""
    shop = ShopFactory(code="fresh", platform=Platform.TMALL)
    hours = datetime.timedelta(hours=1)
    parcel(shop, paid_at=NOW - 10 * hours)  # pending pickup
    picked = parcel(shop, paid_at=NOW - 10 * hours, picked_up_at=NOW - 5 * hours)  # picked: update pending
    parcel(shop, paid_at=NOW - 50 * hours)  # late: a failure
    parcel(shop, paid_at=NOW - 60 * hours, picked_up_at=NOW - 40 * hours)  # update window over, no node
    event(picked, NOW - 6 * hours)  # before the pickup: not an update

    data = selectors.shop_indicators(shop=shop, date_from=(NOW - 60 * hours).date(), date_to=NOW.date(), now=NOW)

    total = data.total
    assert (total.paid, total.pickup_decided, total.pickup_pending) == (4, 3, 1)
    assert total.pickup_rate == Decimal("0.6667")  # 2 picked within 48 h of the 3 decided
    assert (total.picked_up, total.update_decided, total.update_pending) == (2, 1, 1)
    assert total.update_rate == Decimal("0")  # the early one had no node within 24 h; `picked` is still in its window
    # A day whose every parcel is still inside its window has no rate yet, only pending parcels.
    today = next(row for row in data.days if row.paid and row.pickup_decided == 1 and row.pickup_pending == 1)
    assert today.pickup_rate == Decimal("1") and today.update_rate is None and today.update_pending == 1


def test_a_day_with_only_pending_parcels_has_no_rate():
    shop = ShopFactory(code="today", platform=Platform.TMALL)
    parcel(shop, paid_at=NOW - datetime.timedelta(hours=2))

    data = selectors.shop_indicators(shop=shop, date_from=NOW.date(), date_to=NOW.date(), now=NOW)

    (day,) = data.days
    assert (day.paid, day.pickup_pending, day.pickup_rate) == (1, 1, None)
