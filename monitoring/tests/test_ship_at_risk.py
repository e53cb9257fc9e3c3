"""`ship_at_risk` (DESIGN.md "Inside the warehouse"): a parcel with a warehouse node, not yet packed,
within 8 h of its ship deadline is at risk — a warning only, resolved when packed, shipped or ready
to ship. Shops that send no warehouse nodes raise exactly the alerts they raised before."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from fulfillment.models import Parcel, TrackingEvent
from fulfillment.parcel_state import parcels_refresh_milestones, parcels_set_ready_to_ship
from fulfillment.tests.factories import OrderFactory, ParcelFactory, ShopFactory
from monitoring.models import Alert, AlertKind, SlaPolicy
from monitoring.rules import RULES
from monitoring.services import scan

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
S = datetime.timedelta(seconds=1)
H = datetime.timedelta(hours=1)
PAID = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # a Monday
RISK = AlertKind.SHIP_AT_RISK


def parcel(shop_code="tmall-wh", platform="tmall", tier="mall", **kw):
    shop = ShopFactory(code=shop_code, platform=platform, seller_tier=tier)
    return ParcelFactory(order=OrderFactory(shop=shop, paid_at=PAID), **kw)


def node(p: Parcel, code: str, at: datetime.datetime) -> Parcel:
    """A warehouse (or carrier) event, folded into the parcel by the one writer."""
    TrackingEvent.objects.create(parcel=p, code=code, occurred_at=at, location="杭州仓")
    parcels_refresh_milestones(parcel_ids=[p.pk])
    p.refresh_from_db()
    return p


def open_alert(p: Parcel, kind=RISK, *, now) -> Alert | None:
    scan(now=now)
    return Alert.objects.filter(parcel=p, kind=kind, resolved_at__isnull=True).first()


def test_warning_once_now_is_past_ship_due_less_8_hours_and_never_overdue():
    p = node(parcel(), "wh_accepted", PAID + H)
    due = PAID + 24 * H
    assert p.ship_due_at == due
    assert p.ship_risk_at == due - 8 * H
    assert open_alert(p, now=due - 8 * H) is None  # exactly at the instant: not yet
    alert = open_alert(p, now=due - 8 * H + S)
    assert (alert.level, alert.due_at, alert.raised_at) == ("warning", due, due - 8 * H + S)
    late = open_alert(p, now=due + 5 * H)  # the ship deadline passed: still a warning (ship_overdue says the rest)
    assert (late.pk, late.level, late.escalated_at) == (alert.pk, "warning", None)
    assert open_alert(p, AlertKind.SHIP_OVERDUE, now=due + 5 * H).level == "overdue"


def test_resolved_when_packed():
    p = node(parcel(), "wh_printed", PAID + 2 * H)
    assert open_alert(p, now=PAID + 17 * H) is not None
    node(p, "wh_packed", PAID + 17 * H + 30 * 60 * S)
    assert open_alert(p, now=PAID + 18 * H) is None
    assert Alert.objects.get(parcel=p, kind=RISK).resolved_at == PAID + 18 * H


def test_resolved_when_shipped():
    p = node(parcel(), "wh_picked", PAID + 2 * H)
    assert open_alert(p, now=PAID + 17 * H) is not None
    Parcel.objects.filter(pk=p.pk).update(shipped_at=PAID + 17 * H, status="shipped")
    assert open_alert(p, now=PAID + 18 * H) is None


def test_a_packed_parcel_raises_nothing():
    p = node(parcel(), "wh_printed", PAID + 2 * H)
    node(p, "wh_packed", PAID + 3 * H)
    assert open_alert(p, now=PAID + 20 * H) is None


def test_lazada_end_of_day_deadline_less_8_hours_resolved_by_ready_to_ship():
    p = node(parcel("lazada-wh", "lazada", "marketplace"), "wh_accepted", PAID + H)
    due = datetime.datetime(2026, 3, 4, 23, 59, 59, tzinfo=SH)  # end of the 2nd calendar day
    assert (p.ship_due_at, p.ship_risk_at) == (due, due - 8 * H)
    assert open_alert(p, now=due - 8 * H) is None
    assert open_alert(p, now=due - 8 * H + S).level == "warning"
    parcels_set_ready_to_ship(parcel_ids=[p.pk], at=due - 7 * H)
    assert open_alert(p, now=due - 6 * H) is None


def test_the_hours_are_policy_data():
    SlaPolicy.objects.filter(code="tmall").update(ship_at_risk_hours=4)
    p = node(parcel(), "wh_accepted", PAID + H)
    assert p.ship_risk_at == PAID + 20 * H
    assert open_alert(p, now=PAID + 17 * H) is None
    assert open_alert(p, now=PAID + 20 * H + S) is not None


def test_a_shop_without_warehouse_nodes_sees_no_such_alert():
    p = parcel("tmall-plain")
    parcels_refresh_milestones(parcel_ids=[p.pk])
    p.refresh_from_db()
    assert p.ship_due_at == PAID + 24 * H and p.ship_risk_at is None
    for now in (PAID + 16 * H + S, PAID + 23 * H, PAID + 30 * H):
        assert open_alert(p, now=now) is None


def _alerts(parcel_ids, now):
    scan(now=now)
    return sorted(
        (row[0], row[1], row[2], row[3])
        for row in Alert.objects.filter(parcel_id__in=parcel_ids).values_list("parcel__order__order_id", "kind", "level", "resolved_at")
    )


def test_shops_without_nodes_raise_exactly_the_alerts_they_raised_before(monkeypatch):
    """Held-out behaviour: a shop that sends no warehouse nodes gets, at every instant, the same
    alerts with and without the new rule; and a twin parcel with nodes gets the same carrier alerts."""
    plain = [parcel("tmall-plain"), parcel("tmall-plain", shipped=True), parcel("tmall-plain", picked_up=True),
             parcel("lazada-plain", "lazada", "marketplace")]
    parcels_refresh_milestones(parcel_ids=[p.pk for p in plain])
    instants = [PAID + h * H for h in (15, 17, 23, 25, 41, 49, 90)]
    with_rule = [_alerts([p.pk for p in plain], now) for now in instants]
    Alert.objects.all().delete()
    import monitoring.services

    monkeypatch.setattr(monitoring.services, "RULES", tuple(r for r in RULES if r.kind != RISK))
    without_rule = [_alerts([p.pk for p in plain], now) for now in instants]
    assert with_rule == without_rule
    assert any(with_rule)  # the parcels do raise alerts: the comparison can fail


def test_warehouse_nodes_change_no_carrier_alert():
    """Twins: one with warehouse nodes (even after its pickup), one without; all but ship_at_risk equal."""
    twins = []
    for code in ("tmall-a", "tmall-b"):
        p = parcel(code, shipped=True)
        node(p, "picked_up", PAID + 20 * H)
        twins.append(p)
    node(twins[0], "wh_accepted", PAID + H)
    node(twins[0], "wh_packed", PAID + 21 * H)
    for now in (PAID + 30 * H, PAID + 41 * H, PAID + 45 * H, PAID + 90 * H):
        scan(now=now)
        kinds = [
            sorted(Alert.objects.filter(parcel=p, resolved_at__isnull=True).exclude(kind=RISK).values_list("kind", "level"))
            for p in twins
        ]
        assert kinds[0] == kinds[1]
    assert kinds[0]  # update / stagnation did fire: the comparison can fail


def test_the_dashboards_count_it_and_give_it_a_tab(manager_client):
    from django.urls import reverse

    p = node(parcel(), "wh_accepted", PAID + H)
    scan(now=PAID + 17 * H)
    assert open_alert(p, now=PAID + 17 * H) is not None

    stalled = manager_client.get(reverse("admin:dashboard_stalled")).content.decode()
    overview = manager_client.get(reverse("admin:dashboard_overview")).content.decode()
    assert "kind=ship_at_risk" in stalled and "Not packed, ship deadline near" in stalled
    assert "?kind=ship_at_risk" in overview


def test_the_scan_finds_parcels_at_risk_through_their_partial_index():
    """The rule's `requires` is the index's condition: the database reads only the open clocks."""
    from django.db import connection

    from monitoring.deadlines import active_policies
    from monitoring.rules import RULES_BY_KIND
    from monitoring.services import _breaching

    node(parcel(), "wh_accepted", PAID + H)
    query = _breaching(RULES_BY_KIND[RISK], now=PAID + 17 * H, policies=active_policies()).values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "parcel_ship_risk_open_idx" in plan, plan
