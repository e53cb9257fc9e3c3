"""The manager's numbers (issue 14): outlets counted from payment, one row per parcel, counts per
rule and level, figures computed by hand."""

import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict

from fulfillment.tests.factories import CarrierOutletFactory, OrderFactory, ParcelFactory, ShopFactory
from monitoring import selectors
from monitoring.models import AlertKind, AlertLevel
from monitoring.tests.factories import AlertFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


def paid_parcel(shop, *, hours_ago, picked_after=None, outlet=None, **order_fields):
    paid = NOW - hours_ago * HOUR
    return ParcelFactory(
        order=OrderFactory(shop=shop, paid_at=paid, **order_fields), shipped=True, outlet=outlet,
        picked_up_at=None if picked_after is None else paid + picked_after * HOUR,
    )


def test_outlet_counts_its_parcels_from_payment_and_the_rows_add_up_to_the_shop():
    """10 parcels assigned to HZ (e-waybill), 8 picked up within 48 h, 2 never: 8/10, not 8/8.
    Plus 3 parcels of another outlet (all in time) and 2 with no outlet yet (never picked up)."""
    shop = ShopFactory(code="lz")
    hz, sz = CarrierOutletFactory(code="HZ"), CarrierOutletFactory(code="SZ")
    for i in range(10):
        paid_parcel(shop, hours_ago=72, picked_after=None if i < 2 else 5, outlet=hz)
    for _ in range(3):
        paid_parcel(shop, hours_ago=72, picked_after=5, outlet=sz)
    for _ in range(2):
        paid_parcel(shop, hours_ago=72)
    day = (NOW - 72 * HOUR).date()

    cards = selectors.outlet_scorecards(shop=shop, date_from=day, date_to=day, now=NOW)

    rows = {row.outlet.code: row for row in cards.outlets}
    assert (rows["HZ"].paid, rows["HZ"].picked_within_48h, rows["HZ"].pickup_decided) == (10, 8, 10)
    assert rows["HZ"].pickup_rate == Decimal("0.8")
    assert (cards.no_outlet.paid, cards.no_outlet.picked_within_48h) == (2, 0)
    assert cards.shop_total.pickup_rate == Decimal("0.7333")  # 11 of 15
    for attr in ("paid", "picked_within_48h", "pickup_decided", "picked_up", "updated_within_24h"):
        assert sum(getattr(r, attr) for r in [*cards.outlets, cards.no_outlet]) == getattr(cards.shop_total, attr)


def test_outlet_star_rating_comes_with_its_month():
    shop = ShopFactory(code="s")
    rated = CarrierOutletFactory(code="R", star_rating=4, rating_month=datetime.date(2026, 5, 1))
    paid_parcel(shop, hours_ago=72, picked_after=2, outlet=rated)
    day = (NOW - 72 * HOUR).date()

    (row,) = selectors.outlet_scorecards(shop=shop, date_from=day, date_to=day, now=NOW).outlets

    assert (row.star_rating, row.rating_month) == (4, datetime.date(2026, 5, 1))


def test_a_rate_is_conclusive_only_once_most_of_its_parcels_are_decided():
    row = selectors.RateRow("d", paid=66, picked_within_48h=3, pickup_decided=3)
    assert row.pickup_rate == Decimal("1") and not row.pickup_conclusive
    row = selectors.RateRow("d", paid=66, picked_within_48h=50, pickup_decided=60)
    assert row.pickup_conclusive


def alert(shop, kind, level, *, due_in, parcel=None, **order_fields):
    parcel = parcel or paid_parcel(shop, hours_ago=80, **order_fields)
    return AlertFactory(parcel=parcel, kind=kind, level=level, raised_at=NOW - HOUR, due_at=NOW + due_in * HOUR)


@pytest.fixture
def three_parcels():
    """P1: pickup overdue (due −5 h) + stagnation warning (+2 h); P2: stagnation overdue (−1 h) + update
    warning (+3 h) + route overdue (−2 h); P3: stagnation warning (+1 h). 6 open alerts, 3 parcels."""
    shop = ShopFactory(code="a")
    p1 = alert(shop, AlertKind.PICKUP_OVERDUE, AlertLevel.OVERDUE, due_in=-5)
    alert(shop, AlertKind.STAGNATION, AlertLevel.WARNING, due_in=2, parcel=p1.parcel)
    p2 = alert(shop, AlertKind.STAGNATION, AlertLevel.OVERDUE, due_in=-1)
    alert(shop, AlertKind.UPDATE_OVERDUE, AlertLevel.WARNING, due_in=3, parcel=p2.parcel)
    alert(shop, AlertKind.ROUTE_OVERDUE, AlertLevel.OVERDUE, due_in=-2, parcel=p2.parcel)
    p3 = alert(shop, AlertKind.STAGNATION, AlertLevel.WARNING, due_in=1)
    AlertFactory(parcel=p3.parcel, kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.OVERDUE, raised_at=NOW,
                 due_at=NOW, resolved_at=NOW)  # resolved: never counted
    return {"shop": shop, "p1": p1.parcel, "p2": p2.parcel, "p3": p3.parcel}


def rows_of(text=""):
    _f, queryset = selectors.stalled_parcels(data=QueryDict(text), now=NOW)
    return [(a.parcel.tracking_no, a.kind) for a in queryset]


def test_one_row_per_parcel_led_by_its_alert_due_first(three_parcels):
    p1, p2, p3 = (three_parcels[k].tracking_no for k in ("p1", "p2", "p3"))

    assert rows_of() == [(p1, AlertKind.PICKUP_OVERDUE), (p2, AlertKind.ROUTE_OVERDUE), (p3, AlertKind.STAGNATION)]
    # Filtered by a rule, each parcel is led by its alert of that rule.
    assert rows_of("kind=stagnation") == [(p2, AlertKind.STAGNATION), (p3, AlertKind.STAGNATION), (p1, AlertKind.STAGNATION)]
    assert rows_of("kind=stagnation&level=warning") == [(p3, AlertKind.STAGNATION), (p1, AlertKind.STAGNATION)]
    assert rows_of("level=overdue") == [(p1, AlertKind.PICKUP_OVERDUE), (p2, AlertKind.ROUTE_OVERDUE)]


def test_counts_per_rule_and_level_are_the_open_alerts_and_the_total_the_parcels(three_parcels):
    counts = {c.kind: (c.warning, c.overdue) for c in selectors.stalled_counts(data=QueryDict(), now=NOW)}

    assert counts == {
        AlertKind.PICKUP_OVERDUE: (0, 1), AlertKind.UPDATE_OVERDUE: (1, 0), AlertKind.ROUTE_OVERDUE: (0, 1),
        AlertKind.STAGNATION: (2, 1),
    }
    for text, parcels, alerts in (("", 3, 6), ("kind=stagnation", 3, 3), ("level=warning", 3, 3),
                                  ("kind=stagnation&level=overdue", 1, 1)):
        data = QueryDict(text)
        filterset, rows = selectors.stalled_parcels(data=data, now=NOW)
        total = selectors.stalled_total(
            rows=rows, counts=selectors.stalled_counts(data=data, now=NOW), conditions=filterset.alert_conditions(),
            kind=data.get("kind", ""), level=data.get("level", ""),
        )
        assert (total.parcels, total.alerts, total.estimated) == (parcels, alerts, False), text
        assert total.parcels == len(rows)


def test_total_is_estimated_beyond_the_exact_limit(three_parcels, monkeypatch):
    monkeypatch.setattr("monitoring.selectors.stalled.EXACT_TOTAL_LIMIT", 2)
    data = QueryDict()
    filterset, rows = selectors.stalled_parcels(data=data, now=NOW)

    total = selectors.stalled_total(rows=rows, counts=selectors.stalled_counts(data=data, now=NOW),
                                    conditions=filterset.alert_conditions())

    assert total.estimated and total.alerts == 6


def test_page_rows_carry_every_open_alert_of_their_parcel(three_parcels):
    _f, queryset = selectors.stalled_parcels(data=QueryDict("kind=stagnation"), now=NOW)

    rows = selectors.with_open_alerts(list(queryset))

    p2_row = next(r for r in rows if r.parcel_id == three_parcels["p2"].pk)
    assert [a.kind for a in p2_row.other_alerts] == [AlertKind.ROUTE_OVERDUE, AlertKind.UPDATE_OVERDUE]


def test_counts_and_rows_keep_to_the_shops_given(three_parcels):
    other = ShopFactory(code="b")
    alert(other, AlertKind.STAGNATION, AlertLevel.OVERDUE, due_in=-9)
    only_a = {three_parcels["shop"].pk}

    _f, rows = selectors.stalled_parcels(data=QueryDict(), now=NOW, shop_ids=only_a)
    counts = selectors.stalled_counts(data=QueryDict(), now=NOW, shop_ids=only_a)

    assert {a.parcel.shop_id for a in rows} == only_a
    assert sum(c.total for c in counts) == 6
    assert selectors.dashboard_overview(now=NOW, shop_ids=only_a).total_open == 6
    # Asking for the other shop by id is an invalid choice: no rows, never a wider result.
    filterset, rows = selectors.stalled_parcels(data=QueryDict(f"shop={other.pk}"), now=NOW, shop_ids=only_a)
    assert not filterset.is_valid() and not rows.exists()


def test_outlet_filter_finds_the_outlet_by_the_name_shown_or_its_code():
    shop = ShopFactory(code="a")
    yuhang, xihu = CarrierOutletFactory(code="HZ01", name="余杭网点"), CarrierOutletFactory(code="HZ02", name="西湖网点")
    mine = alert(shop, AlertKind.STAGNATION, AlertLevel.OVERDUE, due_in=-1,
                 parcel=paid_parcel(shop, hours_ago=80, outlet=yuhang))
    alert(shop, AlertKind.STAGNATION, AlertLevel.OVERDUE, due_in=-1, parcel=paid_parcel(shop, hours_ago=80, outlet=xihu))

    for text in ("outlet=余杭", "outlet=HZ01", "outlet=%E4%BD%99%E6%9D%AD%E7%BD%91%E7%82%B9"):
        assert [a.pk for a in selectors.stalled_parcels(data=QueryDict(text), now=NOW)[1]] == [mine.pk], text


def test_destination_is_shown_once():
    assert selectors.destination("Bangkok", "Bangkok") == "Bangkok"
    assert selectors.destination("广东省", "深圳市") == "广东省 深圳市"
    assert selectors.destination("", "Cebu") == "Cebu"
    assert selectors.destination("Metro Manila", "") == "Metro Manila"


@pytest.mark.postgres
def test_counts_under_a_costly_parcel_filter_are_estimates_and_say_so(three_parcels, monkeypatch):
    monkeypatch.setattr("monitoring.selectors.stalled.EXACT_COUNT_COST", 0)  # every join "costly"
    data = QueryDict(f"shop={three_parcels['shop'].pk}")
    filterset, rows = selectors.stalled_parcels(data=data, now=NOW)

    counts = selectors.stalled_counts(data=data, now=NOW)
    total = selectors.stalled_total(rows=rows, counts=counts, conditions=filterset.alert_conditions())

    assert counts and all(c.estimated for c in counts)
    assert total.estimated
    # Without a filter on the parcel the counts stay exact: one pass over the (kind, level) index.
    assert not any(c.estimated for c in selectors.stalled_counts(data=QueryDict(), now=NOW))
