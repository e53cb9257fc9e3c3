"""monitoring.services: the scan as a whole (idempotent, bounded queries, finished parcels, moving
deadlines), and the manager's actions (answer a ticket, resolve a false sign-off)."""

import datetime
import importlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection

from fulfillment.models import EventCode, Parcel, ParcelStatus
from fulfillment.services import parcels_refresh_milestones
from fulfillment.tests.factories import OrderFactory, ParcelFactory, ShopFactory, TrackingEventFactory
from monitoring.deadlines import recompute_deadlines
from monitoring.models import Alert, AlertKind, AlertLevel, Complaint
from monitoring.rules import RULES
from monitoring.services import SCAN_LOCK_KEY, TransitionNotAllowed, alert_resolve, scan, scan_exclusive, ticket_answer
from monitoring.tests.factories import ComplaintFactory, StagnationTicketFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
H = datetime.timedelta(hours=1)
S = datetime.timedelta(seconds=1)
PAID = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def make(n=1, platform="tmall", tier="mall", amount="200.00", **parcel_kw) -> list[Parcel]:
    shop = ShopFactory(code=f"{platform}-{tier}", platform=platform, seller_tier=tier)
    parcels = [
        ParcelFactory(order=OrderFactory(shop=shop, paid_at=PAID, amount=Decimal(amount)), **parcel_kw)
        for _ in range(n)
    ]
    recompute_deadlines(parcel_ids=[p.pk for p in parcels])
    return parcels


def open_kinds(parcel) -> dict[str, str]:
    return dict(Alert.objects.filter(parcel=parcel, resolved_at__isnull=True).values_list("kind", "level"))


def alert_rows():
    return list(Alert.objects.order_by("pk").values())


def test_compensation_estimates_from_the_policy():
    (unpicked,) = make(shipped=True)
    (picked,) = make(picked_up=True)
    scan(now=PAID + 72 * H)
    assert Alert.objects.get(parcel=unpicked, kind=AlertKind.PICKUP_OVERDUE).compensation_estimate == Decimal("10.00")
    assert Alert.objects.get(parcel=picked, kind=AlertKind.UPDATE_OVERDUE).compensation_estimate == Decimal("60.00")
    assert Alert.objects.get(parcel=picked, kind=AlertKind.STAGNATION).compensation_estimate is None


def test_second_scan_at_the_same_instant_writes_nothing():
    make(3, shipped=True)
    make(2, picked_up=True)
    make(2, platform="lazada", tier="mall")
    first = scan(now=PAID + 45 * H)
    assert first.raised > 0
    before = alert_rows()
    second = scan(now=PAID + 45 * H)
    assert (second.raised, second.upgraded, second.resolved) == (0, 0, 0)
    assert alert_rows() == before


def test_pickup_resolves_the_alert_and_keeps_it():
    (parcel,) = make(shipped=True)
    scan(now=PAID + 41 * H)
    assert open_kinds(parcel) == {AlertKind.PICKUP_OVERDUE: AlertLevel.WARNING}
    Parcel.objects.filter(pk=parcel.pk).update(picked_up_at=PAID + 42 * H, last_event_at=PAID + 42 * H)
    recompute_deadlines(parcel_ids=[parcel.pk])
    report = scan(now=PAID + 43 * H)
    assert report.rules[AlertKind.PICKUP_OVERDUE].resolved == 1
    alert = Alert.objects.get(parcel=parcel, kind=AlertKind.PICKUP_OVERDUE)
    assert alert.resolved_at == PAID + 43 * H
    assert alert.level == AlertLevel.WARNING  # never upgraded, kept as history


def _event(parcel, code, at):
    TrackingEventFactory(parcel=parcel, code=code, occurred_at=at, location=f"{code}@{at:%H%M}")
    parcels_refresh_milestones(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()


def test_info_event_is_not_a_valid_node():
    (parcel,) = make(shipped=True)
    _event(parcel, EventCode.PICKED_UP, PAID + 6 * H)
    _event(parcel, EventCode.INFO, PAID + 10 * H)
    scan(now=PAID + 6 * H + 25 * H)
    assert open_kinds(parcel)[AlertKind.UPDATE_OVERDUE] == AlertLevel.OVERDUE
    _event(parcel, EventCode.IN_TRANSIT, PAID + 31 * H)  # a valid node, late: resolves it
    scan(now=PAID + 32 * H)
    assert AlertKind.UPDATE_OVERDUE not in open_kinds(parcel)


def test_late_and_out_of_order_events():
    (parcel,) = make(shipped=True)
    _event(parcel, EventCode.PICKED_UP, PAID + 6 * H)
    _event(parcel, EventCode.IN_TRANSIT, PAID + 8 * H)
    scan(now=PAID + 8 * H + 70 * H)
    first = Alert.objects.get(parcel=parcel, kind=AlertKind.STAGNATION)
    assert (first.level, first.due_at) == (AlertLevel.WARNING, PAID + 80 * H)
    # An older event arriving late changes neither the last node nor the alert.
    _event(parcel, EventCode.IN_TRANSIT, PAID + 7 * H)
    assert scan(now=PAID + 79 * H).rules[AlertKind.STAGNATION].changed == 0
    # A newer node: the stalled period is over; the old alert is resolved, the clock restarts.
    _event(parcel, EventCode.ARRIVED_SORTING_CENTRE, PAID + 78 * H)
    report = scan(now=PAID + 79 * H)
    assert report.rules[AlertKind.STAGNATION].resolved == 1
    assert AlertKind.STAGNATION not in open_kinds(parcel)
    scan(now=PAID + 78 * H + 64 * H + S)
    second = Alert.objects.get(parcel=parcel, kind=AlertKind.STAGNATION, resolved_at__isnull=True)
    assert second.pk != first.pk and second.due_at == PAID + 150 * H


@pytest.mark.parametrize(
    "status", [ParcelStatus.CANCELLED, ParcelStatus.DELIVERED, ParcelStatus.RETURNED, ParcelStatus.LOST]
)
def test_finished_parcels_get_no_new_alerts_and_old_ones_resolve(status):
    (open_one,) = make(shipped=True)
    (fresh,) = make(shipped=True)
    scan(now=PAID + 50 * H)
    assert open_kinds(open_one) == {AlertKind.PICKUP_OVERDUE: AlertLevel.OVERDUE}
    Parcel.objects.filter(pk__in=[open_one.pk, fresh.pk]).update(status=status)
    Alert.objects.filter(parcel=fresh).delete()  # as if it finished before any scan
    report = scan(now=PAID + 100 * H)
    assert open_kinds(open_one) == {} and open_kinds(fresh) == {}
    assert report.rules[AlertKind.PICKUP_OVERDUE].resolved == 1
    assert Alert.objects.filter(parcel=open_one).count() == 1  # resolved, kept


def test_finished_parcels_still_get_tickets_and_false_signoffs():
    (parcel,) = make(picked_up=True, status=ParcelStatus.DELIVERED, delivered_at=PAID + 20 * H)
    StagnationTicketFactory(parcel=parcel, opened_at=PAID + 30 * H)
    ComplaintFactory(parcel=parcel, opened_at=PAID + 30 * H)
    scan(now=PAID + 60 * H)
    assert open_kinds(parcel) == {
        AlertKind.TICKET_RESPONSE_OVERDUE: AlertLevel.OVERDUE,
        AlertKind.FALSE_SIGNOFF: AlertLevel.OVERDUE,
    }


def test_scan_report_lines_per_rule():
    make(2, shipped=True)
    report = scan(now=PAID + 41 * H)
    text = "\n".join(report.lines())
    assert "pickup_overdue: raised 2, upgraded 0, resolved 0" in text
    assert "ship_overdue: raised 0" in text


@pytest.mark.parametrize("n", [10, 1000])
def test_query_count_does_not_grow_with_parcels(n, django_assert_max_num_queries):
    shop = ShopFactory(code="bulk", platform="tmall")
    order = OrderFactory(shop=shop, paid_at=PAID)
    Parcel.objects.bulk_create(
        Parcel(order=order, shop=shop, platform="tmall", paid_at=PAID, status="paid") for _ in range(n)
    )
    recompute_deadlines()
    # 3 per rule + the policies and the connection's settings + the order spikes (threshold, campaigns,
    # shops, one count per time zone, the shops with older orders)
    with django_assert_max_num_queries(3 * len(RULES) + 5 + 5):
        report = scan(now=PAID + 50 * H)
    assert report.rules[AlertKind.PICKUP_OVERDUE].raised == n
    assert report.rules[AlertKind.SHIP_OVERDUE].raised == n


def test_ticket_answer_records_who_and_resolves(manager_user):
    (parcel,) = make(picked_up=True)
    ticket = StagnationTicketFactory(parcel=parcel, opened_at=PAID + 30 * H)
    scan(now=PAID + 47 * H)
    assert open_kinds(parcel)[AlertKind.TICKET_RESPONSE_OVERDUE] == AlertLevel.WARNING
    ticket_answer(ticket=ticket, by=manager_user, response="已催促快递，明日派送")
    ticket.refresh_from_db()
    assert ticket.answered_by == manager_user and ticket.answered_at is not None
    assert AlertKind.TICKET_RESPONSE_OVERDUE not in open_kinds(parcel)
    assert scan(now=PAID + 60 * H).rules[AlertKind.TICKET_RESPONSE_OVERDUE].raised == 0
    with pytest.raises(TransitionNotAllowed):
        ticket_answer(ticket=ticket, by=manager_user, response="again")


def test_ticket_answer_needs_permission_and_text(warehouse_user, manager_user):
    ticket = StagnationTicketFactory()
    with pytest.raises(PermissionDenied):
        ticket_answer(ticket=ticket, by=warehouse_user, response="ok")
    with pytest.raises(TransitionNotAllowed):
        ticket_answer(ticket=ticket, by=manager_user, response="   ")


def test_alert_resolve_false_signoff(manager_user, warehouse_user):
    (parcel,) = make(picked_up=True)
    ComplaintFactory(parcel=parcel, opened_at=PAID + 30 * H)
    scan(now=PAID + 31 * H)
    alert = Alert.objects.get(parcel=parcel, kind=AlertKind.FALSE_SIGNOFF)
    with pytest.raises(PermissionDenied):
        alert_resolve(alert=alert, by=warehouse_user, note="x")
    with pytest.raises(TransitionNotAllowed):
        alert_resolve(alert=alert, by=manager_user, note="")
    alert_resolve(alert=alert, by=manager_user, note="买家确认已收货")
    alert.refresh_from_db()
    assert alert.resolved_by == manager_user and alert.resolution_note == "买家确认已收货"
    assert Complaint.objects.get(parcel=parcel).resolved_at is not None
    assert scan(now=PAID + 32 * H).rules[AlertKind.FALSE_SIGNOFF].raised == 0  # not raised again


def test_alert_resolve_refuses_automatic_kinds(manager_user):
    (parcel,) = make(shipped=True)
    scan(now=PAID + 50 * H)
    alert = Alert.objects.get(parcel=parcel, kind=AlertKind.PICKUP_OVERDUE)
    with pytest.raises(TransitionNotAllowed):
        alert_resolve(alert=alert, by=manager_user, note="picked up, really")


def test_scan_exclusive_skips_when_another_scan_runs(caplog):
    make(shipped=True)
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL path is covered by test_scan_exclusive_postgres")
    cache.add(SCAN_LOCK_KEY, "someone else")
    try:
        report = scan_exclusive(now=PAID + 50 * H)
    finally:
        cache.delete(SCAN_LOCK_KEY)
    assert report.skipped and not Alert.objects.exists()
    assert "skipped" in caplog.text
    assert scan_exclusive(now=PAID + 50 * H).rules[AlertKind.PICKUP_OVERDUE].raised == 1
    assert cache.get(SCAN_LOCK_KEY) is None  # released


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scan_exclusive_postgres(caplog):
    import psycopg

    from monitoring.models import SlaPolicy
    from monitoring.services import SCAN_ADVISORY_LOCK_ID

    # A transactional test may start after another one flushed the seeded policies: seed them again.
    seeded = importlib.import_module("monitoring.migrations.0002_seed_sla_policies")
    for row in seeded.POLICIES:
        SlaPolicy.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    make(shipped=True)
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [SCAN_ADVISORY_LOCK_ID])
        report = scan_exclusive(now=PAID + 50 * H)
        assert report.skipped and not Alert.objects.exists()
        assert "skipped" in caplog.text
        other.execute("SELECT pg_advisory_unlock(%s)", [SCAN_ADVISORY_LOCK_ID])
        assert scan_exclusive(now=PAID + 50 * H).rules[AlertKind.PICKUP_OVERDUE].raised == 1
    finally:
        other.close()


def test_scan_parcels_command_prints_per_rule():
    from io import StringIO

    from django.core.management import call_command

    make(2, shipped=True)
    out = StringIO()
    call_command("scan_parcels", "--now", "2026-03-04T11:00:00", stdout=out)  # paid + 49 h, Shanghai time
    assert "pickup_overdue: raised 2, upgraded 0, resolved 0" in out.getvalue()
    assert Alert.objects.filter(kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.OVERDUE).count() == 2


def test_scan_parcels_command_rejects_a_bad_instant():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="now"):
        call_command("scan_parcels", "--now", "yesterday")


def test_saving_a_changed_policy_recomputes_the_running_parcels_deadlines(django_capture_on_commit_callbacks):
    from monitoring.models import SlaPolicy
    from monitoring.services import sla_policy_save

    (parcel,) = make(1, platform="tmall", tier="mall")
    recompute_deadlines(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    policy = SlaPolicy.objects.get(code="tmall")
    assert parcel.pickup_due_at == parcel.paid_at + datetime.timedelta(hours=policy.pickup_due_hours)

    with django_capture_on_commit_callbacks(execute=True) as unchanged:
        assert sla_policy_save(policy=policy, changed_fields=[], by=None) is False
    assert unchanged == []

    before = parcel.pickup_due_at
    policy.pickup_warn_hours, policy.pickup_due_hours = 30, 36
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert sla_policy_save(policy=policy, changed_fields=["pickup_due_hours"], by=None) is True
        parcel.refresh_from_db()
        assert parcel.pickup_due_at == before  # recomputed only once the change is committed
    assert len(callbacks) == 1
    parcel.refresh_from_db()
    assert parcel.pickup_due_at == parcel.paid_at + datetime.timedelta(hours=36)


@pytest.mark.parametrize(
    ("field", "value"), [("pickup_due_hours", 99_999_999), ("stagnation_hours", 0), ("route_grace_days", 61)]
)
def test_a_policy_out_of_bounds_is_refused_by_the_service_and_the_database(field, value):
    """A policy of 99,999,999 hours would overflow every deadline (PostgreSQL) or switch the rule
    off (SQLite): hours lie in 1–720, days in 1–60."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from monitoring.models import SlaPolicy
    from monitoring.services import sla_policy_save

    policy = SlaPolicy.objects.get(code="tmall")
    setattr(policy, field, value)
    with pytest.raises(ValidationError) as refused:
        sla_policy_save(policy=policy, changed_fields=[field], by=None)
    assert field in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.filter(pk=policy.pk).update(**{field: value})
