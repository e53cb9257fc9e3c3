"""The monitoring rules of DESIGN.md ("Deadlines and rules") as data.

Each rule names the parcel columns (or, for tickets and complaints, the subqueries) holding its
warning and due instants, the platforms it applies to and the condition under which its clock has
stopped. `monitoring.services.scan` turns every rule into three set statements (resolve, upgrade,
raise); nothing here loops over parcels.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.models import F, Min, OuterRef, Q, Subquery
from django.db.models.expressions import BaseExpression

from fulfillment.models import SHIP_RISK_OPEN, Platform
from monitoring.deadlines import policy_q
from monitoring.models import AlertKind, Complaint, SlaPolicy, StagnationTicket

DOMESTIC = (Platform.TMALL, Platform.TAOBAO)
LAZADA = (Platform.LAZADA,)

ColumnOrExpression = str | Callable[[], BaseExpression]
StopCondition = Q | Callable[[Sequence[SlaPolicy]], Q]


@dataclass(frozen=True)
class Rule:
    """One row of the rules table.

    `due` / `warn`: a Parcel column name, or a callable returning an expression on Parcel.
    `requires`: the clock runs only for these parcels (a Q, or a callable building one per query). `stop`: the clock has stopped (the alert is
    resolved). `platforms`: None means every platform. `include_finished`: the rule still applies
    to cancelled, delivered, returned and lost parcels. `compensation_rate`: the SlaPolicy field
    whose rate of the order amount is the alert's compensation estimate. `past`: see `past_q`.
    `warning_only`: the alert stays a warning past its due instant (`ship_at_risk`).
    """

    kind: str
    due: ColumnOrExpression
    warn: ColumnOrExpression | None = None
    platforms: tuple[str, ...] | None = None
    requires: Q | Callable[[], Q] = field(default_factory=Q)
    stop: StopCondition = field(default_factory=lambda: Q(pk__in=[]))
    include_finished: bool = False
    compensation_rate: str | None = None
    past: Callable[[datetime.datetime], Q] | None = None
    warning_only: bool = False

    def past_q(self, now: datetime.datetime) -> Q | None:
        """Optional: the parcels past warning or due at `now`, driven from a small table (tickets,
        complaints) so that the database need not compute a subquery for every parcel."""
        return self.past(now) if self.past is not None else None

    def due_expression(self) -> BaseExpression:
        return F(self.due) if isinstance(self.due, str) else self.due()

    def warn_expression(self) -> BaseExpression | None:
        if self.warn is None:
            return None
        return F(self.warn) if isinstance(self.warn, str) else self.warn()

    def requires_q(self) -> Q:
        return self.requires() if callable(self.requires) else self.requires

    def stop_q(self, policies: Sequence[SlaPolicy]) -> Q:
        return self.stop(policies) if callable(self.stop) else self.stop


def _ship_stopped(policies: Sequence[SlaPolicy]) -> Q:
    """Tracking number uploaded; under a policy that needs a pickup record (618), only a pickup counts."""
    needs_pickup = Q(pk__in=[])
    for policy in policies:
        if policy.ship_requires_pickup:
            needs_pickup |= policy_q(policy)
    return Q(picked_up_at__isnull=False) | (Q(shipped_at__isnull=False) & ~needs_pickup)


def _open_tickets():
    return StagnationTicket.objects.filter(answered_at__isnull=True)


def _ticket_warn():
    """The earliest warning instant of the parcel's unanswered tickets (16 h after opening)."""
    return Subquery(
        _open_tickets().filter(parcel=OuterRef("pk")).values("parcel").annotate(m=Min("response_warn_at")).values("m")
    )


def _ticket_due():
    """The earliest response deadline of the parcel's unanswered tickets (24 h after opening)."""
    return Subquery(
        _open_tickets().filter(parcel=OuterRef("pk")).values("parcel").annotate(m=Min("response_due_at")).values("m")
    )


def _ticket_past(now: datetime.datetime) -> Q:
    return Q(
        pk__in=_open_tickets().filter(Q(response_warn_at__lt=now) | Q(response_due_at__lt=now)).values("parcel_id")
    )


def _open_complaints():
    return Complaint.objects.filter(kind=AlertKind.FALSE_SIGNOFF, resolved_at__isnull=True)


def _complaint_due():
    """Overdue at once: from the oldest unresolved false sign-off complaint."""
    return Subquery(
        _open_complaints().filter(parcel=OuterRef("pk")).values("parcel").annotate(m=Min("opened_at")).values("m")
    )


def _complaint_past(now: datetime.datetime) -> Q:
    return Q(pk__in=_open_complaints().filter(opened_at__lt=now).values("parcel_id"))


RULES: tuple[Rule, ...] = (
    # Tmall/Taobao: tracking number uploaded within 24 h of payment (618: picked up within 48 h).
    Rule(kind=AlertKind.SHIP_OVERDUE, due="ship_due_at", platforms=DOMESTIC, stop=_ship_stopped),
    # Tmall: picked up within 48 h of payment, warning at 40 h; 5% of the order amount compensation.
    Rule(
        kind=AlertKind.PICKUP_OVERDUE,
        warn="pickup_warn_at",
        due="pickup_due_at",
        platforms=DOMESTIC,
        requires=Q(picked_up_at__isnull=True),  # the stop condition, as the partial index's condition
        stop=Q(picked_up_at__isnull=False),
        compensation_rate="pickup_compensation_rate",
    ),
    # A valid node within 24 h of the pickup (warning at 16 h); 30% on a buyer complaint.
    Rule(
        kind=AlertKind.UPDATE_OVERDUE,
        warn="update_warn_at",
        due="update_due_at",
        platforms=DOMESTIC,
        requires=Q(picked_up_at__isnull=False),
        stop=Q(last_event_at__gt=F("picked_up_at")),
        compensation_rate="update_compensation_rate",
    ),
    # Out for delivery: signed by 20:00 local the next day.
    Rule(
        kind=AlertKind.DELIVERY_OVERDUE,
        due="delivery_due_at",
        platforms=DOMESTIC,
        requires=Q(delivered_at__isnull=True),
        stop=Q(delivered_at__isnull=False),
    ),
    # Route standard days (origin → destination province) + 3 days after the pickup.
    Rule(
        kind=AlertKind.ROUTE_OVERDUE,
        due="route_due_at",
        platforms=DOMESTIC,
        requires=Q(delivered_at__isnull=True),
        stop=Q(delivered_at__isnull=False),
    ),
    # No valid node for 72 h (96 h to remote destinations), warning 8 h before; a newer node moves
    # the deadline, so the old alert is resolved and a new clock starts.
    Rule(
        kind=AlertKind.STAGNATION,
        warn="stagnation_warn_at",
        due="stagnation_due_at",
        requires=Q(picked_up_at__isnull=False),
    ),
    # Stagnation ticket: answered within 24 h of opening, warning at 16 h; finished parcels too.
    Rule(
        kind=AlertKind.TICKET_RESPONSE_OVERDUE,
        warn=_ticket_warn,
        due=_ticket_due,
        past=_ticket_past,
        include_finished=True,
    ),
    # Lazada: ready to ship by the end of the 2nd calendar day (Mall: 1st working day) after the order day.
    Rule(kind=AlertKind.LAZADA_SHIP_OVERDUE, due="ship_due_at", platforms=LAZADA, stop=Q(rts_at__isnull=False)),
    # Lazada: at the sorting centre by the end of the 5th calendar day (Mall: 3rd working day).
    Rule(
        kind=AlertKind.LAZADA_SORTING_OVERDUE,
        due="sorting_due_at",
        platforms=LAZADA,
        requires=Q(sorting_centre_at__isnull=True),
        stop=Q(sorting_centre_at__isnull=False),
    ),
    # A buyer's false sign-off complaint: overdue at once, open until a manager resolves it.
    Rule(kind=AlertKind.FALSE_SIGNOFF, due=_complaint_due, past=_complaint_past, include_finished=True),
    # Warehouse nodes: not packed within `ship_at_risk_hours` (8 h) of the ship deadline; a warning
    # only. `ship_risk_at` is set only for parcels with a warehouse node; packed, shipped, ready to
    # ship or picked up stops the clock (the partial index's condition).
    Rule(
        kind=AlertKind.SHIP_AT_RISK,
        warn="ship_risk_at",
        due="ship_due_at",
        requires=SHIP_RISK_OPEN,
        warning_only=True,
    ),
)

RULES_BY_KIND = {rule.kind: rule for rule in RULES}
