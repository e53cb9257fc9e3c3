"""Consolidation bags: create, scan parcels in, take one out, seal, reopen, report lost."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import TransitionNotAllowed
from fulfillment import parcel_state
from fulfillment.access import may_see_shop
from fulfillment.models import STATUS_RANK, Carrier, Parcel, ParcelStatus, Platform, Shop

from ..models import (
    BagItem,
    BagStatus,
    ConsolidationBag,
    HandoverItem,
    SortingCentre,
)
from .common import _generate_number, _record, _user, system_reason
from .scan_results import ScanOutcome, ScanResult
from .scanning import normalize_tracking_numbers

_SEPARATORS = re.compile(r"[\s,;]+")


def split_tracking_numbers(text: str) -> list[str]:
    """Numbers typed by a scanner (one per Enter) or pasted from a spreadsheet (lines, tabs, commas),
    each normalised (`scanning.normalize_tracking_number`)."""
    return normalize_tracking_numbers(_SEPARATORS.split(text or ""))


@transaction.atomic
def bag_create(*, shop: Shop, sorting_centre: str, by) -> ConsolidationBag:
    if sorting_centre not in SortingCentre.values:
        raise ValidationError(
            _("Only the Shenzhen (SZ) and Yiwu (YW) sorting centres accept consolidation bags."), code="centre"
        )
    bag = ConsolidationBag.objects.create(
        number=f"new-{timezone.now().timestamp()}-{shop.pk}", shop=shop, sorting_centre=sorting_centre
    )
    bag.number = _generate_number(sorting_centre, bag.pk)
    bag.save(update_fields=["number"])
    _record(bag=bag, from_status="", to_status=BagStatus.OPEN, by=by, **system_reason("bag_created"))
    return bag


def _lock_bag(bag: ConsolidationBag) -> ConsolidationBag:
    return ConsolidationBag.objects.select_for_update(of=("self",)).get(pk=bag.pk)


@transaction.atomic
def bag_add_parcels(*, bag: ConsolidationBag, tracking_numbers: Sequence[str], by) -> list[ScanResult]:
    """Add scanned or pasted parcels to an open bag; one result per number, in the order given.

    Each number is normalised first (upper-case, no spaces, no scanner prefix: `scanning`). A parcel
    is refused when it is unknown, already handed over (on a sheet, loose or in its bag, or picked
    up), already in a bag, of another shop, cancelled, or a Lazada parcel not ready to ship. Added
    parcels become `bagged` (never moving a status backwards).
    """
    bag = _lock_bag(bag)
    if bag.status != BagStatus.OPEN:
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: parcels can only be added to an open bag.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    numbers = normalize_tracking_numbers(tracking_numbers)
    wanted = list(dict.fromkeys(numbers))
    by_number = _scanned_parcels(bag, wanted)
    bagged_in = dict(
        BagItem.objects.filter(parcel_id__in=[p.pk for p in by_number.values()]).values_list("parcel_id", "bag__number")
    )
    decided: dict[str, ScanResult] = {}
    to_add: list[Parcel] = []
    # A bag travels with one carrier: the carrier of the parcels already in it, else of the first added.
    carrier_id = BagItem.objects.filter(bag=bag).values_list("parcel__carrier_id", flat=True).first()
    for number in wanted:
        parcel = by_number.get(number)
        refusal = _scan_refusal(number, parcel, bag, bagged_in, by)
        if refusal is None and carrier_id is not None and parcel.carrier_id != carrier_id:
            refusal = _other_carrier(number, parcel, carrier_id)
        if refusal is None:
            carrier_id = parcel.carrier_id
            to_add.append(parcel)
        else:
            decided[number] = refusal
    if to_add:
        decided.update(_put_in_bag(bag, to_add, by))
    results = []
    seen: set[str] = set()
    for number in numbers:
        result = decided[number]
        if number in seen and result.added:
            result = ScanResult(number, ScanOutcome.ALREADY_IN_THIS_BAG, result.parcel_id, bag.number)
        seen.add(number)
        results.append(result)
    return results


def _scanned_parcels(bag: ConsolidationBag, numbers: list[str]) -> dict[str, Parcel]:
    """The parcels of these numbers, locked so that a concurrent sheet cannot take one of them as a
    loose parcel meanwhile; the same number at two carriers: the bag's shop's parcel."""
    candidates = (
        Parcel.objects.select_for_update(of=("self",))
        .filter(tracking_no__in=numbers)
        .annotate(sheet_number=Subquery(_active_sheet_of_parcel()))
        .order_by("pk")
    )
    by_number: dict[str, Parcel] = {}
    for parcel in candidates:
        current = by_number.get(parcel.tracking_no)
        if current is None or (current.shop_id != bag.shop_id and parcel.shop_id == bag.shop_id):
            by_number[parcel.tracking_no] = parcel
    return by_number


def _active_sheet_of_parcel():
    """The number of the active handover sheet a parcel is on, loose or in its bag."""
    return (
        HandoverItem.objects.filter(active=True)
        .filter(Q(parcel=OuterRef("pk")) | Q(bag__items__parcel=OuterRef("pk")))
        .order_by("-pk")
        .values("sheet__number")[:1]
    )


def _scan_refusal(number: str, parcel: Parcel | None, bag: ConsolidationBag, bagged_in: dict, by) -> ScanResult | None:
    """Why this scanned parcel cannot go into the bag, or None when it can."""
    if parcel is None:
        return ScanResult(number, ScanOutcome.UNKNOWN)
    other = bagged_in.get(parcel.pk, "")
    if other == bag.number:
        return ScanResult(number, ScanOutcome.ALREADY_IN_THIS_BAG, parcel.pk, other)
    if parcel.shop_id != bag.shop_id:
        return _other_shop(number, parcel, by)
    if parcel.status == ParcelStatus.CANCELLED:
        return ScanResult(number, ScanOutcome.CANCELLED, parcel.pk)
    handed_over = _handed_over(number, parcel, other)
    if handed_over is not None:
        return handed_over
    if other:
        return ScanResult(number, ScanOutcome.IN_OTHER_BAG, parcel.pk, other, {"bag": other})
    if parcel.platform == Platform.LAZADA and parcel.rts_at is None:
        return ScanResult(number, ScanOutcome.NOT_READY_TO_SHIP, parcel.pk)
    return None


def _other_shop(number: str, parcel: Parcel, by) -> ScanResult:
    """Named only to a user who may see that shop (a user limited to shops learns nothing of others)."""
    details = {"shop": str(parcel.shop)} if by is None or may_see_shop(by, parcel.shop_id) else {}
    return ScanResult(number, ScanOutcome.OTHER_SHOP, parcel.pk, details=details)


def _handed_over(number: str, parcel: Parcel, other_bag: str) -> ScanResult | None:
    """A parcel on a handover sheet (loose or in its bag) or already picked up: where it is, which
    matters more to the clerk than the bag it travels in."""
    sheet = getattr(parcel, "sheet_number", None)
    if sheet:
        details = {"sheet": sheet, "bag": other_bag}
    elif STATUS_RANK.get(parcel.status, 0) >= STATUS_RANK[ParcelStatus.HANDED_OVER]:
        details = {"status": parcel.status}
    else:
        return None
    return ScanResult(number, ScanOutcome.HANDED_OVER, parcel.pk, other_bag, details)


def _other_carrier(number: str, parcel: Parcel, carrier_id: int) -> ScanResult:
    bag_carrier = Carrier.objects.filter(pk=carrier_id).values_list("code", flat=True).first()
    details = {"carrier": parcel.carrier.code if parcel.carrier else "—", "bag_carrier": bag_carrier}
    return ScanResult(number, ScanOutcome.OTHER_CARRIER, parcel.pk, details=details)


def _put_in_bag(bag: ConsolidationBag, parcels: list[Parcel], by) -> dict[str, ScanResult]:
    """Bag the parcels; a concurrent scan into another bag may have won one of them meanwhile
    (ignore_conflicts): ask who holds each."""
    user = _user(by)
    BagItem.objects.bulk_create(
        [BagItem(bag=bag, parcel=parcel, added_by=user) for parcel in parcels], ignore_conflicts=True
    )
    holders = dict(
        BagItem.objects.filter(parcel_id__in=[p.pk for p in parcels]).values_list("parcel_id", "bag__number")
    )
    results, added_ids = {}, []
    for parcel in parcels:
        holder = holders.get(parcel.pk)
        if holder == bag.number:
            added_ids.append(parcel.pk)
            results[parcel.tracking_no] = ScanResult(parcel.tracking_no, ScanOutcome.ADDED, parcel.pk, bag.number)
        else:
            results[parcel.tracking_no] = ScanResult(
                parcel.tracking_no, ScanOutcome.IN_OTHER_BAG, parcel.pk, holder or "", {"bag": holder}
            )
    if added_ids:
        parcel_state.parcels_advance(parcel_ids=added_ids, status=ParcelStatus.BAGGED, reason="bagged")
    return results


@transaction.atomic
def bag_remove_parcel(*, bag: ConsolidationBag, parcel: Parcel, by) -> None:
    bag = _lock_bag(bag)
    if bag.status != BagStatus.OPEN:
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: parcels can only be removed from an open bag.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    deleted, _rows = BagItem.objects.filter(bag=bag, parcel=parcel).delete()
    if not deleted:
        raise ValidationError(
            _("Parcel %(parcel)s is not in bag %(bag)s.") % {"parcel": parcel, "bag": bag.number}, code="not_in_bag"
        )
    parcel_state.parcels_leave_bag(parcel_ids=[parcel.pk])


@transaction.atomic
def bag_seal(*, bag: ConsolidationBag, by) -> ConsolidationBag:
    """Seal an open bag once every limit holds; every failed check is named in one message."""
    bag = _lock_bag(bag)
    if not bag.can_become(BagStatus.SEALED):
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: only an open bag can be sealed.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    problems = bag.seal_problems()
    if problems:
        raise TransitionNotAllowed([str(p) for p in problems], code="seal_problems")
    bag.status = BagStatus.SEALED
    bag.sealed_at = timezone.now()
    bag.save(update_fields=["status", "sealed_at"])
    _record(bag=bag, from_status=BagStatus.OPEN, to_status=BagStatus.SEALED, by=by)
    return bag


@transaction.atomic
def bag_reopen(*, bag: ConsolidationBag, by, reason: str = "") -> ConsolidationBag:
    """Open a sealed bag again (to add or take out a parcel); a bag on a sheet must leave the sheet first."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for reopening the sealed bag."), code="reason_required")
    bag = _lock_bag(bag)
    if bag.status != BagStatus.SEALED:
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: only a sealed bag that is on no handover sheet can be reopened.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    bag.status = BagStatus.OPEN
    bag.sealed_at = None
    bag.save(update_fields=["status", "sealed_at"])
    _record(bag=bag, from_status=BagStatus.SEALED, to_status=BagStatus.OPEN, by=by, reason=reason)
    return bag


@transaction.atomic
def bag_report_lost(*, bag: ConsolidationBag, by, note: str) -> ConsolidationBag:
    """Report a picked-up bag lost by the carrier: status `lost` (searchable by that status), with
    who, when and why in its history, which opens its claim evidence. Reporting it again changes
    nothing (the first report stands)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Give a reason for reporting the bag lost (what the carrier said)."), code="reason_required")
    bag = _lock_bag(bag)
    if bag.status == BagStatus.LOST:
        return bag
    if not bag.can_become(BagStatus.LOST):
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: only a bag the carrier picked up and did not deliver can be reported lost.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    bag.status = BagStatus.LOST
    bag.reported_lost_at = timezone.now()
    bag.save(update_fields=["status", "reported_lost_at"])
    _record(bag=bag, from_status=BagStatus.PICKED_UP, to_status=BagStatus.LOST, by=by, reason=note)
    return bag
