"""Monitoring writes: the scan, resolving alerts, answering stagnation tickets.

The scan runs every rule of `monitoring.rules` as three set statements — resolve the open alerts
whose condition cleared (or whose deadline moved), upgrade warnings that passed their due instant
to overdue in place, raise new alerts with one INSERT … SELECT … WHERE NOT EXISTS — so the number
of queries does not depend on the number of parcels, and a scan repeated at the same instant
writes nothing.
"""

import datetime
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, DecimalField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db.dialect import analyze, try_advisory_xact_lock, without_jit
from core.errors import TransitionNotAllowed  # noqa: F401 - re-exported: the agreed interface
from fulfillment.models import Parcel, unfinished
from monitoring.deadlines import active_policies, policy_q
from monitoring.models import Alert, AlertKind, AlertLevel, Complaint, SlaPolicy, StagnationTicket
from monitoring.rules import RULES, Rule
from monitoring.spikes import order_spikes_scan

logger = logging.getLogger(__name__)

SCAN_LOCK_KEY = "monitoring:scan-lock"
# pg_try_advisory_xact_lock key: any constant shared by every scanning process ("PCSCAN").
SCAN_ADVISORY_LOCK_ID = 0x5043_5343_414E
SCAN_CACHE_LOCK_SECONDS = 30 * 60
ANALYZE_AFTER_CHANGES = 1000


@dataclass
class RuleOutcome:
    raised: int = 0
    upgraded: int = 0
    resolved: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.raised + self.upgraded + self.resolved


@dataclass
class ScanReport:
    now: datetime.datetime
    rules: dict[str, RuleOutcome] = field(default_factory=dict)
    skipped: bool = False
    order_spikes: int = 0  # shop alerts raised (monitoring.spikes)

    @property
    def raised(self) -> int:
        return sum(o.raised for o in self.rules.values())

    @property
    def upgraded(self) -> int:
        return sum(o.upgraded for o in self.rules.values())

    @property
    def resolved(self) -> int:
        return sum(o.resolved for o in self.rules.values())

    def lines(self) -> list[str]:
        if self.skipped:
            return [_("Scan at %(now)s skipped: another scan is running.") % {"now": self.now.isoformat()}]
        lines = [
            _("%(kind)s: raised %(raised)d, upgraded %(upgraded)d, resolved %(resolved)d")
            % {"kind": kind, "raised": o.raised, "upgraded": o.upgraded, "resolved": o.resolved}
            for kind, o in self.rules.items()
        ]
        lines.append(
            _("Scan at %(now)s: raised %(raised)d, upgraded %(upgraded)d, resolved %(resolved)d")
            % {"now": self.now.isoformat(), "raised": self.raised, "upgraded": self.upgraded, "resolved": self.resolved}
        )
        if self.order_spikes:
            lines.append(_("Unusual order volume: %(count)d shop alerts raised") % {"count": self.order_spikes})
        return lines


def _breaching(rule: Rule, *, now: datetime.datetime, policies: Sequence[SlaPolicy]) -> QuerySet:
    """Parcels for which `rule` is at least at warning level at `now`, annotated with rule_due/rule_warn."""
    parcels = Parcel.objects.annotate(rule_due=rule.due_expression())
    warn = rule.warn_expression()
    if warn is not None:
        parcels = parcels.annotate(rule_warn=warn)
    past = rule.past_q(now)
    if past is None:
        # warn_at <= due_at and warn_at is set whenever due_at is (monitoring.deadlines writes the
        # due instant as the warning one when a policy has no separate warning): `warn < now`
        # alone is "warning or overdue", and one indexed column serves it.
        past = Q(rule_warn__lt=now) if warn is not None else Q(rule_due__lt=now)
    parcels = parcels.filter(past, rule.requires_q()).exclude(rule.stop_q(policies))
    if rule.platforms is not None:
        parcels = parcels.filter(platform__in=rule.platforms)
    if not rule.include_finished:
        parcels = parcels.filter(unfinished())
    return parcels


def _compensation(rule: Rule, policies: Sequence[SlaPolicy]):
    """rate × order amount, the rate taken from the parcel's policy (the CASE picks the most specific)."""
    whens = []
    if rule.compensation_rate:
        for policy in policies:
            rate = getattr(policy, rule.compensation_rate)
            if rate:
                whens.append(When(policy_q(policy), then=Round(F("order__amount") * Value(rate), 2)))
    return Case(*whens, default=None, output_field=DecimalField(max_digits=12, decimal_places=2))


def _raise(rule: Rule, *, now: datetime.datetime, policies: Sequence[SlaPolicy]) -> int:
    """INSERT … SELECT the breaching parcels that have no open alert of this kind."""
    open_alert = Alert.objects.filter(parcel=OuterRef("pk"), kind=rule.kind, resolved_at__isnull=True)
    is_overdue = Q(rule_due__lt=now)
    if rule.warning_only:
        level, escalated = Value(AlertLevel.WARNING.value), Value(None, output_field=DateTimeField())
    else:
        level = Case(When(is_overdue, then=Value(AlertLevel.OVERDUE.value)), default=Value(AlertLevel.WARNING.value))
        escalated = Case(When(is_overdue, then=Value(now)), default=None)
    columns = {
        "a_parcel_id": F("pk"),
        "a_kind": Value(str(rule.kind)),
        "a_level": level,
        "a_due_at": F("rule_due"),
        "a_raised_at": Value(now),
        "a_escalated_at": escalated,
        "a_resolution_note": Value(""),
        "a_compensation_estimate": _compensation(rule, policies),
    }
    rows = (
        _breaching(rule, now=now, policies=policies)
        .filter(~Exists(open_alert))
        .order_by()
        .annotate(**columns)
        .values(*columns)
    )
    query = rows.query
    if list(query.annotation_select) != list(columns):  # the INSERT column list relies on this order
        raise RuntimeError("unexpected SELECT column order for the alert INSERT")
    select_sql, params = query.get_compiler(connection=connection).as_sql()
    table = connection.ops.quote_name(Alert._meta.db_table)
    names = ", ".join(connection.ops.quote_name(Alert._meta.get_field(c[2:]).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {select_sql}", params)  # noqa: S608 — identifiers from _meta, values bound
        return max(cursor.rowcount, 0)


def _resolve(rule: Rule, *, now: datetime.datetime, policies: Sequence[SlaPolicy]) -> int:
    """Resolve open alerts whose parcel no longer breaches the rule, or whose deadline moved."""
    still = _breaching(rule, now=now, policies=policies).filter(pk=OuterRef("parcel_id"), rule_due=OuterRef("due_at"))
    return Alert.objects.filter(kind=rule.kind, resolved_at__isnull=True).filter(~Exists(still)).update(resolved_at=now)


def _upgrade(rule: Rule, *, now: datetime.datetime) -> int:
    """A warning whose due instant has passed becomes overdue in place (raised_at is kept)."""
    return Alert.objects.filter(
        kind=rule.kind, resolved_at__isnull=True, level=AlertLevel.WARNING, due_at__lt=now
    ).update(level=AlertLevel.OVERDUE, escalated_at=now)


@transaction.atomic
def scan(*, now: datetime.datetime) -> ScanReport:
    """Run every rule once at `now`: resolve, upgrade, raise. Idempotent for a given `now`."""
    without_jit()
    policies = active_policies()
    report = ScanReport(now=now)
    for rule in RULES:
        started = time.perf_counter()
        outcome = RuleOutcome()
        outcome.resolved = _resolve(rule, now=now, policies=policies)
        outcome.upgraded = 0 if rule.warning_only else _upgrade(rule, now=now)
        outcome.raised = _raise(rule, now=now, policies=policies)
        outcome.seconds = time.perf_counter() - started
        report.rules[str(rule.kind)] = outcome
    report.order_spikes = order_spikes_scan(now=now)
    if report.raised + report.resolved > ANALYZE_AFTER_CHANGES:
        # Fresh statistics for the next scan's NOT EXISTS: with a stale "no open alerts" estimate
        # PostgreSQL picks a nested-loop anti-join that is quadratic in the open alerts.
        with connection.cursor() as cursor:
            analyze(cursor, Alert)
    return report


def scan_exclusive(*, now: datetime.datetime) -> ScanReport:
    """`scan`, unless another scan is running: then log it and return a report marked skipped.

    PostgreSQL: a transaction-level advisory lock (released at commit, or when a killed worker's
    connection closes). Elsewhere: an atomic `cache.add` (shared between processes when the cache is).
    """
    with transaction.atomic():
        acquired = try_advisory_xact_lock(SCAN_ADVISORY_LOCK_ID)
        if acquired is False:
            return _skipped(now)
        if acquired:
            return scan(now=now)
    token = uuid.uuid4().hex
    if not cache.add(SCAN_LOCK_KEY, token, timeout=SCAN_CACHE_LOCK_SECONDS):
        return _skipped(now)
    try:
        return scan(now=now)
    finally:
        if cache.get(SCAN_LOCK_KEY) == token:
            cache.delete(SCAN_LOCK_KEY)


def _skipped(now: datetime.datetime) -> ScanReport:
    logger.warning("Parcel scan at %s skipped: another scan holds the lock", now.isoformat())
    return ScanReport(now=now, skipped=True)


@transaction.atomic
def alert_resolve(*, alert: Alert, by, note: str) -> Alert:
    """A manager closes a false sign-off alert with a note; the parcel's open complaints close with it.

    Other kinds resolve themselves when the parcel moves (or the ticket is answered): resolving them
    by hand would only see the next scan raise them again.
    """
    if not by.has_perm("monitoring.resolve_alert"):
        raise PermissionDenied(_("You may not resolve alerts."))
    note = (note or "").strip()
    if not note:
        raise TransitionNotAllowed(_("Write a note saying how the complaint was settled."))
    alert = Alert.objects.select_for_update(of=("self",)).get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise TransitionNotAllowed(_("This alert was already resolved on %(when)s.") % {"when": alert.resolved_at})
    if alert.kind != AlertKind.FALSE_SIGNOFF:
        raise TransitionNotAllowed(
            _("Only false sign-off alerts are resolved by hand; this one closes when the parcel moves on.")
        )
    now = timezone.now()
    alert.resolved_at, alert.resolved_by, alert.resolution_note = now, by, note
    alert.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    Complaint.objects.filter(parcel_id=alert.parcel_id, kind=AlertKind.FALSE_SIGNOFF, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=by, note=note
    )
    return alert


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, by, note: str) -> Complaint:
    """A manager settles a false sign-off complaint from its own page: its parcel's open
    `false_signoff` alert is resolved with the note (`alert_resolve`), and the complaint with it; a
    complaint whose alert is already gone is resolved alone."""
    if not by.has_perm("monitoring.resolve_alert"):
        raise PermissionDenied(_("You may not resolve alerts."))
    complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    if complaint.resolved_at is not None:
        raise TransitionNotAllowed(_("This complaint was already resolved on %(when)s.") % {"when": complaint.resolved_at})
    alert = Alert.objects.filter(
        parcel_id=complaint.parcel_id, kind=AlertKind.FALSE_SIGNOFF, resolved_at__isnull=True
    ).first()
    if alert is not None:
        alert_resolve(alert=alert, by=by, note=note)
        complaint.refresh_from_db()
        if complaint.resolved_at is not None:
            return complaint
    note = (note or "").strip()
    if not note:
        raise TransitionNotAllowed(_("Write a note saying how the complaint was settled."))
    complaint.resolved_at, complaint.resolved_by, complaint.note = timezone.now(), by, note
    complaint.save(update_fields=["resolved_at", "resolved_by", "note"])
    return complaint


@transaction.atomic
def ticket_answer(*, ticket: StagnationTicket, by, response: str) -> StagnationTicket:
    """Record the merchant's answer to a stagnation ticket (who, when, what).

    The parcel's open `ticket_response_overdue` alert is resolved at once when no other ticket of
    the parcel is waiting for an answer (otherwise the next scan moves it to the next ticket).
    """
    if not by.has_perm("monitoring.answer_stagnationticket"):
        raise PermissionDenied(_("You may not answer stagnation tickets."))
    response = (response or "").strip()
    if not response:
        raise TransitionNotAllowed(_("Write the answer to send to the platform."))
    ticket = StagnationTicket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
    if ticket.answered_at is not None:
        raise TransitionNotAllowed(_("This ticket was already answered on %(when)s.") % {"when": ticket.answered_at})
    now = timezone.now()
    ticket.answered_at, ticket.answered_by, ticket.response = now, by, response
    ticket.save(update_fields=["answered_at", "answered_by", "response"])
    waiting = StagnationTicket.objects.filter(parcel_id=ticket.parcel_id, answered_at__isnull=True).exists()
    if not waiting:
        Alert.objects.filter(
            parcel_id=ticket.parcel_id, kind=AlertKind.TICKET_RESPONSE_OVERDUE, resolved_at__isnull=True
        ).update(resolved_at=now, resolved_by=by, resolution_note=response)
    return ticket


@transaction.atomic
def sla_policy_save(*, policy: SlaPolicy, changed_fields: Iterable[str], by) -> bool:
    """Save a policy a manager edited. When a threshold changed, the deadlines of the parcels still on
    their way are recomputed once the change is committed — by a worker where a broker runs, in-process
    otherwise. Returns whether a recompute was started."""
    policy.full_clean()
    policy.save()
    if not list(changed_fields):
        return False
    from monitoring.tasks import recompute_deadlines as recompute_task

    logger.info("SLA policy %s changed by %s: recomputing deadlines", policy.pk, by)
    transaction.on_commit(lambda: recompute_task.delay(unfinished_only=True))
    return True
