"""Services on parcels that decide *whether* a change is allowed; `parcel_state` makes it.

Mark ready to ship, cancel, and the announcements that re-derive parcels after the data their
deadlines depend on changed (regions, the calendar).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.db.dialect import ID_CHUNK
from core.errors import TransitionNotAllowed
from fulfillment import parcel_state
from fulfillment.models import FINISHED_STATUSES, STATUS_RANK, Parcel, ParcelStatus, Platform, SellerTier

# Re-exported: the importers and the tests call these by their historical names.
from fulfillment.parcel_state import (  # noqa: F401
    EVENT_STATUS,
    FIRST_MILESTONES,
    parcels_fold_new_events,
    parcels_refresh_milestones,
)

logger = logging.getLogger(__name__)

SIGNAL_CHUNK = ID_CHUNK


def send_parcels_changed(*, parcel_ids: Iterable[int], reason: str, **_ignored) -> int:
    """These parcels' inputs changed (their order, a region …): derive them again. Returns how many
    parcels were derived. (The historical name: this used to send the signal to the receivers that
    are now the derivation steps.)"""
    ids = list(parcel_ids)
    parcel_state.rederive(parcel_ids=ids, reason=reason)
    return len(ids)


@dataclass
class ReadyToShipResult:
    """What `parcels_mark_ready_to_ship` did: the parcels marked, and each skipped one with why."""

    marked: list[int] = field(default_factory=list)
    skipped: list[tuple[Parcel, str]] = field(default_factory=list)


def ready_to_ship_refusal(parcel: Parcel) -> str | None:
    """Why this parcel cannot be marked ready to ship, or None when it can."""
    if parcel.rts_at is not None:
        return str(_("already marked ready to ship"))
    if parcel.status == ParcelStatus.CANCELLED:
        return str(_("cancelled: do not ship"))
    if parcel.status in FINISHED_STATUSES:
        return str(_("already %(status)s") % {"status": parcel.get_status_display().lower()})
    if not parcel.tracking_no:
        return str(_("no tracking number yet"))
    return None


@transaction.atomic
def parcels_mark_ready_to_ship(*, parcels, at: datetime.datetime, by=None) -> ReadyToShipResult:
    """Set `rts_at` and status `ready_to_ship` (if not further) on the parcels that may be marked.

    Skipped, each with its reason: parcels already marked, cancelled or finished parcels, and
    parcels without a tracking number (an untracked parcel cannot be handed to a carrier).
    """
    ids = _parcel_ids(parcels)
    result = ReadyToShipResult()
    for parcel in Parcel.objects.filter(pk__in=ids).order_by("pk"):
        refusal = ready_to_ship_refusal(parcel)
        if refusal is None:
            result.marked.append(parcel.pk)
        else:
            result.skipped.append((parcel, refusal))
    if result.marked:
        parcel_state.parcels_set_ready_to_ship(parcel_ids=result.marked, at=at)
        logger.info("%s parcel(s) marked ready to ship at %s by %s", len(result.marked), at.isoformat(), by)
    return result


def _parcel_ids(parcels) -> list[int]:
    if hasattr(parcels, "values_list"):
        return list(parcels.values_list("pk", flat=True))
    return [p if isinstance(p, int) else p.pk for p in parcels]


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
    by_id = by.pk if by is not None and getattr(by, "is_authenticated", False) else None
    parcel_state.parcel_set_cancelled(parcel_id=parcel.pk, at=timezone.now(), by_id=by_id, reason=reason.strip()[:500])
    parcel.refresh_from_db()
    return parcel


def _running(parcels):
    return parcels.exclude(status__in=FINISHED_STATUSES).order_by("pk").values_list("pk", flat=True)


def parcels_destination_remote_changed(*, regions: Iterable[tuple[str, str]]) -> int:
    """Re-derive the running parcels bound for `regions` ((province, city); city "" = the whole
    province) after their remote flag may have changed: only the stagnation clock (picked up, with a
    valid node) depends on it. Returns how many parcels were re-derived."""
    regions = sorted(set(regions))
    ids: set[int] = set()
    for start in range(0, len(regions), REGIONS_PER_QUERY):  # a bounded OR per statement
        bound_for = Q(pk__in=[])
        chunk = regions[start : start + REGIONS_PER_QUERY]
        whole = [province for province, city in chunk if not city]
        if whole:
            bound_for |= Q(order__dest_province__in=whole)
        for province, city in chunk:
            if city:
                bound_for |= Q(order__dest_province=province, order__dest_city=city)
        ids.update(_running(Parcel.objects.filter(bound_for, picked_up_at__isnull=False, last_event_at__isnull=False)))
    return send_parcels_changed(parcel_ids=sorted(ids), reason="regions")


REGIONS_PER_QUERY = 200


def parcels_working_day_deadlines_changed(*, since: datetime.date) -> int:
    """Re-derive the parcels whose deadlines count working days after the calendar changed on/after `since`.

    Only Lazada Mall deadlines count working days (ship by the end of the 1st working day after
    the order day, sorting centre by the end of the 3rd). Parcels past both milestones, finished
    parcels and parcels paid long before the change (their window closed before it) are left out.
    """
    horizon = datetime.datetime.combine(since - datetime.timedelta(days=31), datetime.time.min, tzinfo=datetime.UTC)
    parcels = _running(
        Parcel.objects.filter(platform=Platform.LAZADA, order__seller_tier=SellerTier.MALL, paid_at__gte=horizon).filter(
            Q(rts_at__isnull=True) | Q(sorting_centre_at__isnull=True)
        )
    )
    return send_parcels_changed(parcel_ids=parcels.iterator(chunk_size=ID_CHUNK), reason="holidays")
