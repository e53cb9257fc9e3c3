"""Writes on parcels: milestones from tracking events, ready-to-ship marking, cancellation.

Every function that changes parcels or their milestones announces the set with
`fulfillment.signals.parcels_changed` (inside the same transaction) so that `pickups` can back-date
bagged pickups and `monitoring` can recompute deadlines, without `fulfillment` importing them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import TransitionNotAllowed  # noqa: F401 - re-exported: the agreed interface
from fulfillment.models import (
    STATUS_RANK,
    EventCode,
    Parcel,
    ParcelDraft,
    ParcelStatus,
    Platform,
    SellerTier,
)
from fulfillment.signals import parcels_changed, parcels_drafted

logger = logging.getLogger(__name__)

# parcels_changed carries at most this many ids (SQLite's variable limit on the receivers' IN lists).
SIGNAL_CHUNK = 5000

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


def send_parcels_changed(*, parcel_ids: Iterable[int], reason: str, sender=Parcel, drafted: bool = False) -> int:
    """Send `parcels_changed` in chunks of at most SIGNAL_CHUNK ids; returns how many ids were sent."""
    chunk: list[int] = []
    sent = 0
    for parcel_id in parcel_ids:
        chunk.append(parcel_id)
        if len(chunk) >= SIGNAL_CHUNK:
            parcels_changed.send(sender=sender, parcel_ids=chunk, reason=reason, drafted=drafted)
            sent += len(chunk)
            chunk = []
    if chunk:
        parcels_changed.send(sender=sender, parcel_ids=chunk, reason=reason, drafted=drafted)
        sent += len(chunk)
    return sent


def _case(column: str, mapping: dict, *, default: str = "NULL") -> str:
    """`CASE column WHEN 'k' THEN v ... END` from a dict of trusted constants (never user input)."""
    whens = " ".join(f"WHEN '{key}' THEN {value!r}" for key, value in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def _rank_to_status_case(column: str) -> str:
    whens = " ".join(f"WHEN {rank} THEN '{status}'" for status, rank in STATUS_RANK.items())
    return f"CASE {column} {whens} END"


def refresh_milestones_sql(*, event_filter: str, by_event_id: bool = False) -> str:
    """One UPDATE … FROM (aggregate over events) of the parcel drafts — PostgreSQL and SQLite ≥ 3.33 alike.

    `event_filter` is a trusted SQL condition on the events `e` to fold into their parcels' drafts:
    all events of some parcels (`e.parcel_id IN …`), or only those an import batch just inserted
    (`e.id > <max id before the batch>`). Folding is commutative and idempotent (earliest first
    milestones, latest node, highest status rank, earliest outlet), so folding only the new events
    gives the same parcels as folding them all. `by_event_id`: the filter is an id range (see
    `_events_by_id`).
    """
    vendor = connection.vendor
    events = _events_by_id() if by_event_id else "fulfillment_trackingevent AS e"
    least, greatest = ("LEAST", "GREATEST") if vendor == "postgresql" else ("MIN", "MAX")
    event_rank = {str(code): STATUS_RANK[status] for code, status in EVENT_STATUS.items()}
    valid_nodes = ", ".join(f"'{code}'" for code in EVENT_STATUS)
    aggregates = ",\n".join(
        f"MIN(CASE WHEN e.code = '{code}' THEN e.occurred_at END) AS {column}" for column, code in FIRST_MILESTONES.items()
    )
    first_sets = ",\n".join(
        f"{column} = {least}(COALESCE(p.{column}, agg.{column}), COALESCE(agg.{column}, p.{column}))"
        for column in FIRST_MILESTONES
    )
    if vendor == "postgresql":
        first_outlet = (
            "(ARRAY_AGG(e.outlet_id ORDER BY e.occurred_at, e.outlet_id) FILTER (WHERE e.outlet_id IS NOT NULL))[1]"
        )
    else:  # SQLite has no ARRAY_AGG: the parcel's earliest outlet by a correlated subquery
        first_outlet = (
            "(SELECT o.outlet_id FROM fulfillment_trackingevent o WHERE o.parcel_id = e.parcel_id "
            "AND o.outlet_id IS NOT NULL ORDER BY o.occurred_at, o.outlet_id LIMIT 1)"
        )
    current_rank = _case("p.status", {str(s): r for s, r in STATUS_RANK.items()}, default="0")
    return f"""
        UPDATE {DRAFT_TABLE} AS p SET
            {first_sets},
            last_event_at = {greatest}(COALESCE(p.last_event_at, agg.last_node), COALESCE(agg.last_node, p.last_event_at)),
            outlet_id = CASE
                WHEN agg.first_outlet_at IS NULL THEN p.outlet_id
                WHEN p.outlet_id IS NULL THEN agg.first_outlet_id
                WHEN agg.first_outlet_at < COALESCE(
                    (SELECT MIN(c.occurred_at) FROM fulfillment_trackingevent c
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


def _events_by_id() -> str:
    """The events table for a filter on `e.id` (an import batch's new events). SQLite, without
    statistics, would rather walk the whole (parcel, time, …) index than the rowid range."""
    return "fulfillment_trackingevent AS e" + (" NOT INDEXED" if connection.vendor == "sqlite" else "")


DRAFT_TABLE = ParcelDraft._meta.db_table
_DRAFT_COLUMNS = ", ".join(field.column for field in ParcelDraft._meta.concrete_fields)


def _drafts_start(cursor, *, parcels_sql: str, params) -> None:
    """Empty the connection's draft table (created on first use) and copy the parcels of `parcels_sql`
    (trusted SQL for an `IN (…)`: a `SELECT id …` or a list of placeholders) into it, locked until the
    batch commits: a parcel changed by another transaction meanwhile would otherwise be overwritten
    with the values read here."""
    create_sql, _params = connection.SchemaEditorClass(connection, collect_sql=True).table_sql(ParcelDraft)
    cursor.execute(create_sql.replace("CREATE TABLE", "CREATE TEMPORARY TABLE IF NOT EXISTS", 1))
    cursor.execute(f"DELETE FROM {DRAFT_TABLE}")  # noqa: S608 — constants; not TRUNCATE: cheap for a small table inside a dry run's savepoints
    lock = " ORDER BY id FOR UPDATE" if connection.vendor == "postgresql" else ""
    cursor.execute(
        f"INSERT INTO {DRAFT_TABLE} ({_DRAFT_COLUMNS}) "  # noqa: S608 — constants and a trusted select
        f"SELECT {_DRAFT_COLUMNS} FROM fulfillment_parcel WHERE id IN ({parcels_sql}){lock}",
        params,
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {DRAFT_TABLE}")  # the planner's row count for the joins below


def _drafts_write(cursor) -> list[int]:
    """One UPDATE of every parcel whose draft differs from it; returns their ids."""
    distinct = " IS DISTINCT FROM " if connection.vendor == "postgresql" else " IS NOT "
    sets = ", ".join(f"{column} = d.{column}" for column in ParcelDraft.WRITABLE)
    differs = " OR ".join(f"p.{column}{distinct}d.{column}" for column in ParcelDraft.WRITABLE)
    if connection.vendor == "postgresql":
        returning, drafted = "p.id", ""
    else:
        # RETURNING: the target's columns, unqualified. The IN makes SQLite look the parcels up by
        # the drafts' ids rather than scan every parcel.
        returning, drafted = "id", f" AND p.id IN (SELECT id FROM {DRAFT_TABLE})"  # noqa: S608 — a constant
    cursor.execute(
        f"UPDATE fulfillment_parcel AS p SET {sets}, updated_at = %s "  # noqa: S608 — constants only
        f"FROM {DRAFT_TABLE} AS d WHERE p.id = d.id{drafted} AND ({differs}) RETURNING {returning}",
        [timezone.now()],
    )
    return sorted(row[0] for row in cursor.fetchall())


def _fold_events(
    *, parcels_sql: str, parcels_params, event_filter: str, event_params, reason: str, by_event_id: bool = False
) -> tuple[int, list[int]]:
    """Draft the parcels, fold the events into the drafts, let `parcels_drafted` receivers adjust
    them, write the changed parcels once, announce them with `parcels_changed(drafted=True)`.

    Returns (parcels that had events to fold, ids of the parcels written).
    """
    with connection.cursor() as cursor:
        _drafts_start(cursor, parcels_sql=parcels_sql, params=parcels_params)
        cursor.execute(refresh_milestones_sql(event_filter=event_filter, by_event_id=by_event_id), event_params)
        folded = max(cursor.rowcount, 0)
    parcels_drafted.send(sender=ParcelDraft, reason=reason)
    with connection.cursor() as cursor:
        written = _drafts_write(cursor)
    send_parcels_changed(parcel_ids=written, reason=reason, drafted=True)
    return folded, written


@transaction.atomic
def parcels_refresh_milestones(*, parcel_ids: Iterable[int], reason: str = "events") -> int:
    """Recompute milestones, last valid node, outlet and status of the parcels from their events.

    First milestones (picked up, sorting centre, out for delivery, delivered) take the earliest
    event but never a time later than the one already set (a pickup back-dated to the bag's
    pickup survives); `last_event_at` the latest valid node (any code but `info`); the outlet is
    the one of the earliest event naming an outlet; the status moves to the highest-ranked status
    any event implies and never backwards (`STATUS_RANK`), so a late old event changes nothing.
    The result depends only on the set of events, not on the order or batches they arrived in: an
    interrupted import re-run ends where a clean run does. The `parcels_drafted` receivers then
    back-date pickups and recompute deadlines, and each changed parcel is written once.
    Returns the number of parcels that had events.
    """
    ids = sorted(set(parcel_ids))
    refreshed = 0
    for start in range(0, len(ids), SIGNAL_CHUNK):
        chunk = ids[start : start + SIGNAL_CHUNK]
        if connection.vendor == "postgresql":
            parcels_sql, params = "SELECT unnest(%s::bigint[])", [chunk]
        else:
            parcels_sql, params = ",".join(["%s"] * len(chunk)), chunk
        folded, _written = _fold_events(
            parcels_sql=parcels_sql,
            parcels_params=params,
            event_filter=f"e.parcel_id IN (SELECT id FROM {DRAFT_TABLE})",  # noqa: S608 — a constant
            event_params=[],
            reason=reason,
        )
        refreshed += folded
    return refreshed


def parcels_fold_new_events(*, after_event_id: int, reason: str = "events") -> list[int]:
    """Fold the events with id > `after_event_id` (just inserted by an import batch) into their parcels.

    The importer's set-based path: the parcels with new events are drafted, the new events folded
    into the drafts (see `refresh_milestones_sql`), and each changed parcel is written once. Returns
    the ids of the parcels written. Call inside the batch's transaction.
    """
    _folded, written = _fold_events(
        parcels_sql=f"SELECT DISTINCT e.parcel_id FROM {_events_by_id()} WHERE e.id > %s",  # noqa: S608 — constants
        parcels_params=[after_event_id],
        event_filter="e.id > %s",
        event_params=[after_event_id],
        reason=reason,
        by_event_id=True,
    )
    return written


def _parcel_ids(parcels) -> list[int]:
    if hasattr(parcels, "values_list"):
        return list(parcels.values_list("pk", flat=True))
    return [p if isinstance(p, int) else p.pk for p in parcels]


@transaction.atomic
def parcels_mark_ready_to_ship(*, parcels, at: datetime.datetime, by=None) -> int:
    """Set `rts_at` (if not set) and status `ready_to_ship` (if not further) on parcels not cancelled.

    Returns how many parcels were marked; cancelled parcels and parcels already marked are skipped.
    """
    ids = _parcel_ids(parcels)
    marked = list(
        Parcel.objects.filter(pk__in=ids, rts_at__isnull=True)
        .exclude(status=ParcelStatus.CANCELLED)
        .values_list("pk", flat=True)
    )
    if not marked:
        return 0
    Parcel.objects.filter(pk__in=marked).update(rts_at=at, updated_at=timezone.now())
    lower = [s for s, r in STATUS_RANK.items() if r < STATUS_RANK[ParcelStatus.READY_TO_SHIP]]
    Parcel.objects.filter(pk__in=marked, status__in=lower).update(status=ParcelStatus.READY_TO_SHIP)
    logger.info("%s parcel(s) marked ready to ship at %s by %s", len(marked), at.isoformat(), by)
    send_parcels_changed(parcel_ids=marked, reason="rts")
    return len(marked)


@transaction.atomic
def parcel_cancel(*, parcel: Parcel, by, reason: str) -> Parcel:
    """Cancel a parcel; allowed only before it is ready to ship (DESIGN.md: side exit `cancelled`)."""
    parcel = Parcel.objects.select_for_update(of=("self",)).get(pk=parcel.pk)
    if parcel.status == ParcelStatus.CANCELLED:
        raise TransitionNotAllowed(_("Parcel %(parcel)s is already cancelled.") % {"parcel": parcel})
    if parcel.rts_at is not None or STATUS_RANK[parcel.status] >= STATUS_RANK[ParcelStatus.READY_TO_SHIP]:
        raise TransitionNotAllowed(
            _("Parcel %(parcel)s is already %(status)s and can no longer be cancelled; only parcels not yet ready to ship can.")
            % {"parcel": parcel, "status": parcel.get_status_display().lower()}
        )
    if not (reason or "").strip():
        raise TransitionNotAllowed(_("Give a reason for cancelling the parcel."))
    parcel.status = ParcelStatus.CANCELLED
    parcel.cancelled_at = timezone.now()
    parcel.cancelled_by = by
    parcel.cancel_reason = reason.strip()[:500]
    parcel.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"])
    send_parcels_changed(parcel_ids=[parcel.pk], reason="cancelled")
    return parcel


def parcels_destination_remote_changed(*, regions: Iterable[tuple[str, str]]) -> int:
    """Announce the running parcels bound for `regions` ((province, city); city "" = the whole
    province) after their remote flag changed: only the stagnation clock (picked up, with a valid
    node) depends on it. Returns how many parcels were announced."""
    bound_for = Q(pk__in=[])
    whole = sorted({province for province, city in regions if not city})
    if whole:
        bound_for |= Q(order__dest_province__in=whole)
    for province, city in sorted(regions):
        if city:
            bound_for |= Q(order__dest_province=province, order__dest_city=city)
    parcels = (
        Parcel.objects.filter(bound_for, picked_up_at__isnull=False, last_event_at__isnull=False)
        .exclude(status__in=[ParcelStatus.CANCELLED, ParcelStatus.DELIVERED, ParcelStatus.RETURNED, ParcelStatus.LOST])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return send_parcels_changed(parcel_ids=parcels.iterator(chunk_size=SIGNAL_CHUNK), reason="regions")


def parcels_working_day_deadlines_changed(*, since: datetime.date) -> int:
    """Announce the parcels whose deadlines count working days after the calendar changed on/after `since`.

    Only Lazada Mall deadlines count working days (ship by the end of the 1st working day after
    the order day, sorting centre by the end of the 3rd). Parcels past both milestones, finished
    parcels and parcels paid long before the change (their window closed before it) are left out.
    """
    horizon = datetime.datetime.combine(since - datetime.timedelta(days=31), datetime.time.min, tzinfo=datetime.UTC)
    parcels = (
        Parcel.objects.filter(platform=Platform.LAZADA, order__seller_tier=SellerTier.MALL, paid_at__gte=horizon)
        .filter(Q(rts_at__isnull=True) | Q(sorting_centre_at__isnull=True))
        .exclude(status__in=[ParcelStatus.CANCELLED, ParcelStatus.DELIVERED, ParcelStatus.RETURNED, ParcelStatus.LOST])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return send_parcels_changed(parcel_ids=parcels.iterator(chunk_size=SIGNAL_CHUNK), reason="holidays")

