"""The one writer of a parcel's status and milestones (DESIGN.md, "The parcel's life").

Apps above fulfillment never write `Parcel.status` or a milestone themselves: they ask for one of
the named operations below. Each runs through the derivation pipeline (`fulfillment.derivations`):
the change is made on the parcels' drafts, the derivation steps follow, and each changed parcel is
written once. The rank rule — a status never moves backwards (`STATUS_RANK`) — is written once, in
`statuses_below`; the two backward moves the pickup workflow needs (a parcel leaves its bag, a
sheet is cancelled) have their own names.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from core.db import dialect
from fulfillment.derivations import DraftChange, derive_drafted, parcels_derive
from fulfillment.models import (
    STATUS_RANK,
    Carrier,
    CarrierOutlet,
    EventCode,
    Parcel,
    ParcelDraft,
    ParcelStatus,
    TrackingEvent,
)
from fulfillment.vocabulary import WAREHOUSE_MILESTONES


def statuses_below(status: str) -> list[str]:
    """The statuses a parcel may leave for `status`: every one of lower rank."""
    return [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]


def _advance(drafts: QuerySet, status: str) -> int:
    return drafts.filter(status__in=statuses_below(status)).update(status=status)


def _status_before_handover():
    """Where a parcel goes back to when it leaves its bag or its sheet: ready to ship if marked so."""
    return Case(When(rts_at__isnull=False, then=Value(ParcelStatus.READY_TO_SHIP)), default=Value(ParcelStatus.SHIPPED))


def parcels_advance(*, parcel_ids: Iterable[int], status: str, reason: str) -> list[int]:
    """Move the parcels forward to `status` (those already further keep theirs); returns ids written."""
    return parcels_derive(parcel_ids=parcel_ids, reason=reason, change=lambda drafts: _advance(drafts, status))


def parcels_leave_bag(*, parcel_ids: Iterable[int], reason: str = "unbagged") -> list[int]:
    """Backward move: parcels taken out of an open bag are no longer `bagged`."""
    return parcels_derive(
        parcel_ids=parcel_ids,
        reason=reason,
        change=lambda drafts: drafts.filter(status=ParcelStatus.BAGGED).update(status=_status_before_handover()),
    )


def parcels_leave_sheet(
    *, bagged_ids: Iterable[int], loose_ids: Iterable[int], reason: str = "handover_cancelled"
) -> list[int]:
    """Backward move of a cancelled sheet: its bags' parcels are `bagged` again, its loose parcels
    back to ready to ship (or shipped)."""
    bagged_ids, loose_ids = list(bagged_ids), list(loose_ids)

    def change(drafts: QuerySet) -> None:
        handed_over = drafts.filter(status=ParcelStatus.HANDED_OVER)
        handed_over.filter(pk__in=bagged_ids).update(status=ParcelStatus.BAGGED)
        handed_over.filter(pk__in=loose_ids).update(status=_status_before_handover())

    return parcels_derive(parcel_ids=bagged_ids + loose_ids, reason=reason, change=change)


def parcels_pick_up(
    *, parcel_ids: Iterable[int], at: datetime.datetime, rederive: Iterable[int] = (), reason: str = "picked_up"
) -> list[int]:
    """Loose parcels handed to the pickup agent at `at`: the earliest pickup time wins (an earlier
    carrier scan stays), and the status moves to at least `picked_up`. `rederive`: other parcels
    whose derived values may follow (a picked-up bag's parcels: their pickup is back-dated by the
    pickups step once the sorting centre scans them in)."""
    loose = list(parcel_ids)

    def change(drafts: QuerySet) -> None:
        mine = drafts.filter(pk__in=loose)
        mine.filter(Q(picked_up_at__isnull=True) | Q(picked_up_at__gt=at)).update(picked_up_at=at)
        _advance(mine, ParcelStatus.PICKED_UP)

    return parcels_derive(parcel_ids=loose + list(rederive), reason=reason, change=change)


def parcels_set_ready_to_ship(*, parcel_ids: Iterable[int], at: datetime.datetime) -> list[int]:
    """`rts_at` set (where not yet) and the status at least `ready_to_ship`. The caller decides which
    parcels may be marked (`fulfillment.services.parcels_mark_ready_to_ship`)."""

    def change(drafts: QuerySet) -> None:
        unmarked = drafts.filter(rts_at__isnull=True)
        unmarked.update(rts_at=at)
        _advance(drafts, ParcelStatus.READY_TO_SHIP)

    return parcels_derive(parcel_ids=parcel_ids, reason="rts", change=change)


@transaction.atomic
def parcel_set_cancelled(*, parcel_id: int, at: datetime.datetime, by_id: int | None, reason: str) -> list[int]:
    """The side exit `cancelled`, with who, when and why (the caller checked it is allowed)."""
    return parcels_derive(
        parcel_ids=[parcel_id],
        reason="cancelled",
        change=lambda drafts: drafts.update(
            status=ParcelStatus.CANCELLED, cancelled_at=at, cancelled_by_id=by_id, cancel_reason=reason
        ),
    )


def drafts_backdate_pickup(drafts: QuerySet, at) -> int:
    """Back-dating (the pickups derivation step): `picked_up_at` becomes `at` on these drafts — an
    expression: the bag's pickup time, or the parcel's own inbound time."""
    return drafts.update(picked_up_at=at)


def rederive(*, parcel_ids: Iterable[int], reason: str) -> list[int]:
    """Run the derivation steps again for parcels whose inputs changed elsewhere (their order, a
    region, the calendar): no change of state, the derived columns follow."""
    return parcels_derive(parcel_ids=parcel_ids, reason=reason)



# --------------------------------------------------------------------------- tracking events

# The status an event brings a parcel to; the parcel keeps its status if that ranks higher.
# A failed delivery attempt leaves the parcel out for delivery.
EVENT_STATUS = {
    EventCode.PICKED_UP: ParcelStatus.PICKED_UP,
    EventCode.IN_TRANSIT: ParcelStatus.IN_TRANSIT,
    EventCode.ARRIVED_SORTING_CENTRE: ParcelStatus.AT_SORTING_CENTRE,
    EventCode.OUT_FOR_DELIVERY: ParcelStatus.OUT_FOR_DELIVERY,
    EventCode.FAILED_ATTEMPT: ParcelStatus.OUT_FOR_DELIVERY,
    EventCode.DELIVERED: ParcelStatus.DELIVERED,
    EventCode.EXCEPTION: ParcelStatus.EXCEPTION,
    EventCode.RETURNED: ParcelStatus.RETURNED,
    EventCode.LOST: ParcelStatus.LOST,
}

# First milestones: the earliest event of that code, never later than a value already there
# (so that a pickup time back-dated to the bag's pickup survives).
FIRST_MILESTONES = {
    "picked_up_at": EventCode.PICKED_UP,
    "sorting_centre_at": EventCode.ARRIVED_SORTING_CENTRE,
    "out_for_delivery_at": EventCode.OUT_FOR_DELIVERY,
    "delivered_at": EventCode.DELIVERED,
}

# Folded the same way: the warehouse's first accepted, printed, picked and packed nodes. They are
# absent from EVENT_STATUS, so (like `info`) they are no valid node and never move the status.
EARLIEST_MILESTONES = {**FIRST_MILESTONES, **WAREHOUSE_MILESTONES}


def _case(column: str, mapping: dict, *, default: str = "NULL") -> str:
    """`CASE column WHEN 'k' THEN v ... END` from a dict of trusted constants (never user input)."""
    whens = " ".join(f"WHEN '{key}' THEN {value!r}" for key, value in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def _rank_to_status_case(column: str) -> str:
    whens = " ".join(f"WHEN {rank} THEN '{status}'" for status, rank in STATUS_RANK.items())
    return f"CASE {column} {whens} END"


def fold_events_sql(*, event_filter: str, by_event_id: bool = False) -> str:
    """One UPDATE … FROM (aggregate over events) of the parcel drafts — PostgreSQL and SQLite ≥ 3.33 alike.

    `event_filter` is a trusted SQL condition on the events `e` to fold into their parcels' drafts:
    all events of some parcels, or only those an import batch just inserted (`e.id > <max id before
    the batch>`). Folding is commutative and idempotent (earliest first milestones, latest node,
    highest status rank, earliest outlet), so folding only the new events gives the same parcels as
    folding them all. `by_event_id`: the filter is an id range.
    """
    events_table = dialect.table(TrackingEvent)
    events = dialect.by_id_range(TrackingEvent, "e") if by_event_id else f"{events_table} AS e"
    least, greatest = dialect.least(), dialect.greatest()
    event_rank = {str(code): STATUS_RANK[status] for code, status in EVENT_STATUS.items()}
    valid_nodes = ", ".join(f"'{code}'" for code in EVENT_STATUS)
    aggregates = ",\n".join(
        f"MIN(CASE WHEN e.code = '{code}' THEN e.occurred_at END) AS {column}"
        for column, code in EARLIEST_MILESTONES.items()
    )
    first_sets = ",\n".join(
        f"{column} = {least}(COALESCE(p.{column}, agg.{column}), COALESCE(agg.{column}, p.{column}))"
        for column in EARLIEST_MILESTONES
    )
    first_outlet = dialect.first_by_time_sql(
        model=TrackingEvent, alias="e", value="outlet_id", time="occurred_at", group="parcel_id"
    )
    current_rank = _case("p.status", {str(s): r for s, r in STATUS_RANK.items()}, default="0")
    return f"""
        UPDATE {dialect.table(ParcelDraft)} AS p SET
            {first_sets},
            last_event_at = {greatest}(COALESCE(p.last_event_at, agg.last_node), COALESCE(agg.last_node, p.last_event_at)),
            outlet_id = CASE
                WHEN agg.first_outlet_at IS NULL THEN p.outlet_id
                WHEN p.outlet_id IS NULL THEN agg.first_outlet_id
                WHEN agg.first_outlet_at < COALESCE(
                    (SELECT MIN(c.occurred_at) FROM {events_table} c
                      WHERE c.parcel_id = p.id AND c.outlet_id = p.outlet_id), agg.first_outlet_at)
                THEN agg.first_outlet_id
                ELSE p.outlet_id END,
            status = CASE WHEN agg.top_rank > {current_rank}
                          THEN {_rank_to_status_case("agg.top_rank")} ELSE p.status END
        FROM (
            SELECT e.parcel_id,
                {aggregates},
                MAX(CASE WHEN e.code IN ({valid_nodes}) THEN e.occurred_at END) AS last_node,
                MAX({_case("e.code", event_rank)}) AS top_rank,
                MIN(CASE WHEN e.outlet_id IS NOT NULL THEN e.occurred_at END) AS first_outlet_at,
                {first_outlet} AS first_outlet_id
            FROM {events}
            WHERE {event_filter}
            GROUP BY e.parcel_id
        ) AS agg
        WHERE p.id = agg.parcel_id
    """  # noqa: S608 — every interpolated piece is a constant of this module; values go through params


def _fold(sql: str, params) -> DraftChange:
    def change(drafts: QuerySet) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return max(cursor.rowcount, 0)

    return change


@transaction.atomic
def parcels_refresh_milestones(*, parcel_ids: Iterable[int], reason: str = "events") -> int:
    """Recompute milestones, last valid node, outlet and status of the parcels from their events.

    First milestones (picked up, sorting centre, out for delivery, delivered) take the earliest
    event but never a time later than the one already set (a pickup back-dated to the bag's
    pickup survives); `last_event_at` the latest valid node (any code but `info`); the outlet is
    the one of the earliest event naming an outlet; the status moves to the highest-ranked status
    any event implies and never backwards, so a late old event changes nothing. The result depends
    only on the set of events, not on the order or batches they arrived in: an interrupted import
    re-run ends where a clean run does. Returns the number of parcels that had events.
    """
    drafted = f"e.parcel_id IN (SELECT id FROM {dialect.table(ParcelDraft)})"  # noqa: S608 — a name from _meta
    refreshed = 0
    for chunk in dialect.id_chunks(parcel_ids):
        parcels_sql, params = dialect.id_list(chunk)
        folded, _written = derive_drafted(
            parcels_sql=parcels_sql, params=params, change=_fold(fold_events_sql(event_filter=drafted), []), reason=reason
        )
        refreshed += folded
    return refreshed


def parcels_fold_new_events(*, after_event_id: int, reason: str = "events", parcels_sql: str | None = None) -> list[int]:
    """Fold the events with id > `after_event_id` (just inserted by an import batch) into their parcels.

    The importer's set-based path: the parcels with new events are drafted, the new events folded
    into the drafts, the derivation steps run, and each changed parcel is written once. Returns the
    ids of the parcels written. Call inside the batch's transaction.

    `parcels_sql` (trusted SQL, no parameters): the batch's own parcels, already locked by the
    importer. Without it, the parcels of every event with a greater id, which under concurrent
    imports includes other batches' parcels: locked here in a second round, a lock order two
    batches could cross.
    """
    if parcels_sql is None:
        parcels_sql = f"SELECT DISTINCT e.parcel_id FROM {dialect.by_id_range(TrackingEvent, 'e')} WHERE e.id > %s"  # noqa: S608
        params = [after_event_id]
    else:
        params = []
    _folded, written = derive_drafted(
        parcels_sql=parcels_sql,
        params=params,
        change=_fold(fold_events_sql(event_filter="e.id > %s", by_event_id=True), [after_event_id]),
        reason=reason,
    )
    return written


# --------------------------------------------------------------------------- order rows

# What an order row may change on a stored parcel.
ORDER_ROW_FIELDS = (
    "shop", "paid_at", "carrier", "outlet", "tracking_no", "shipped_at", "rts_at", "status", "updated_at",
)


def parcel_fill_in(
    *,
    parcel: Parcel,
    carrier: Carrier | None,
    tracking_no: str,
    shipped_at: datetime.datetime | None,
    rts_at: datetime.datetime | None,
    outlet: CarrierOutlet | None = None,
) -> bool:
    """Copy a row's carrier, tracking number, e-waybill outlet and milestones onto the parcel; True if
    it changed.

    The status follows the milestones (ready to ship, else shipped, else paid) and never moves backwards.
    The e-waybill outlet (given when the waybill is opened, before any scan) is the parcel's outlet;
    events fold into it only while it has none (`fold_events_sql` keeps an outlet no event names).
    """
    changed = False
    if carrier is not None and parcel.carrier_id != carrier.pk:
        parcel.carrier, changed = carrier, True
    if outlet is not None and parcel.outlet_id != outlet.pk:
        parcel.outlet, changed = outlet, True
    if tracking_no and parcel.tracking_no != tracking_no:
        parcel.tracking_no, changed = tracking_no, True
    for name, value in (("shipped_at", shipped_at), ("rts_at", rts_at)):
        if value is not None and getattr(parcel, name) != value:
            setattr(parcel, name, value)
            changed = True
    if parcel.rts_at:
        target = ParcelStatus.READY_TO_SHIP
    else:
        target = ParcelStatus.SHIPPED if parcel.shipped_at else ParcelStatus.PAID
    if STATUS_RANK[target] > STATUS_RANK[parcel.status or ParcelStatus.PAID]:
        parcel.status, changed = target, True
    return changed


def parcels_save_order_rows(*, new: list[Parcel], changed: list[Parcel], reason: str = "orders") -> list[int]:
    """Store the parcels an order import created or changed in memory (`parcel_fill_in`), then derive
    them (deadlines). Returns the ids of the parcels stored."""
    Parcel.objects.bulk_create(new)
    now = timezone.now()
    for parcel in changed:
        parcel.updated_at = now
    Parcel.objects.bulk_update(changed, list(ORDER_ROW_FIELDS))
    ids = [p.pk for p in new] + [p.pk for p in changed]
    if ids:
        parcels_derive(parcel_ids=ids, reason=reason)
    return ids
