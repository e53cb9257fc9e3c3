"""Writes of the pickup workflow: bags, handover sheets, cancellation, pickup confirmation (DESIGN.md).

Every transition runs in one transaction, re-reads the bag or sheet under a row lock
(`select_for_update(of=("self",))`), checks the model's TRANSITIONS map, raises
`TransitionNotAllowed` with a message a clerk understands, writes the change as set-based UPDATEs
and records who, when and why in `Transition`. Parcels whose status or milestones change are
moved by fulfillment's parcel-state operations (`fulfillment.parcel_state`), never written here.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import TransitionNotAllowed  # noqa: F401 - re-exported: the agreed interface
from fulfillment import parcel_state
from fulfillment.models import STATUS_RANK, Carrier, Parcel, ParcelStatus, Platform, Shop

from .models import (
    BagItem,
    BagStatus,
    ConsolidationBag,
    HandoverItem,
    HandoverSheet,
    SheetStatus,
    SortingCentre,
    Transition,
)
from .selectors import pickup_coverage_covers

TRANSITION_REPORTED_LOST = "reported_lost"  # a Transition.to_status that is not a bag status
PICKUP_CLOCK_TOLERANCE = datetime.timedelta(minutes=10)  # a scanner's clock may run a little ahead


def _user(by):
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def _record(*, bag=None, sheet=None, from_status: str, to_status: str, by, reason: str = "") -> Transition:
    return Transition.objects.create(
        bag=bag, sheet=sheet, from_status=from_status, to_status=to_status, by=_user(by), reason=str(reason)
    )


# --------------------------------------------------------------------------- bags


class ScanOutcome(enum.StrEnum):
    ADDED = "added"
    UNKNOWN = "unknown"
    ALREADY_IN_THIS_BAG = "already_in_this_bag"
    IN_OTHER_BAG = "in_other_bag"
    OTHER_SHOP = "other_shop"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"


@dataclass(frozen=True)
class ScanResult:
    tracking_no: str
    outcome: ScanOutcome
    message: str
    parcel_id: int | None = None
    other_bag: str = ""

    @property
    def added(self) -> bool:
        return self.outcome == ScanOutcome.ADDED


_SEPARATORS = re.compile(r"[\s,;]+")


def split_tracking_numbers(text: str) -> list[str]:
    """Numbers typed by a scanner (one per Enter) or pasted from a spreadsheet (lines, tabs, commas)."""
    return [number for number in _SEPARATORS.split(text or "") if number]


def _generate_number(prefix: str, pk: int) -> str:
    return f"{prefix}{timezone.localdate():%y%m%d}{pk:06d}"


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
    _record(bag=bag, from_status="", to_status=BagStatus.OPEN, by=by, reason=_("Bag created"))
    return bag


def _lock_bag(bag: ConsolidationBag) -> ConsolidationBag:
    return ConsolidationBag.objects.select_for_update(of=("self",)).get(pk=bag.pk)


@transaction.atomic
def bag_add_parcels(*, bag: ConsolidationBag, tracking_numbers: Sequence[str], by) -> list[ScanResult]:
    """Add scanned or pasted parcels to an open bag; one result per number, in the order given.

    A parcel is refused when it is unknown, already in a bag, of another shop, cancelled, or already
    on a handover sheet or picked up. Added parcels become `bagged` (never moving a status backwards).
    """
    bag = _lock_bag(bag)
    if bag.status != BagStatus.OPEN:
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: parcels can only be added to an open bag.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    numbers = [n.strip() for n in tracking_numbers if n and n.strip()]
    wanted = list(dict.fromkeys(numbers))
    # Lock the parcels so that a concurrent sheet cannot take one of them as a loose parcel meanwhile.
    candidates = (
        Parcel.objects.select_for_update(of=("self",))
        .filter(tracking_no__in=wanted)
        .annotate(
            on_sheet=Exists(HandoverItem.objects.filter(parcel=OuterRef("pk"), active=True)),
        )
        .order_by("pk")
    )
    by_number: dict[str, Parcel] = {}
    for parcel in candidates:
        # The same number at two carriers: prefer the bag's shop's parcel.
        current = by_number.get(parcel.tracking_no)
        if current is None or (current.shop_id != bag.shop_id and parcel.shop_id == bag.shop_id):
            by_number[parcel.tracking_no] = parcel
    bagged_in = dict(
        BagItem.objects.filter(parcel_id__in=[p.pk for p in by_number.values()]).values_list("parcel_id", "bag__number")
    )
    decided: dict[str, ScanResult] = {}
    to_add: list[Parcel] = []
    handed_over_rank = STATUS_RANK[ParcelStatus.HANDED_OVER]
    for number in wanted:
        parcel = by_number.get(number)
        if parcel is None:
            decided[number] = ScanResult(number, ScanOutcome.UNKNOWN, str(_("Unknown tracking number.")))
        elif parcel.pk in bagged_in:
            other = bagged_in[parcel.pk]
            if other == bag.number:
                decided[number] = ScanResult(
                    number, ScanOutcome.ALREADY_IN_THIS_BAG, str(_("Already in this bag.")), parcel.pk, other
                )
            else:
                decided[number] = ScanResult(
                    number,
                    ScanOutcome.IN_OTHER_BAG,
                    str(_("Already in bag %(bag)s.") % {"bag": other}),
                    parcel.pk,
                    other,
                )
        elif parcel.shop_id != bag.shop_id:
            decided[number] = ScanResult(
                number,
                ScanOutcome.OTHER_SHOP,
                str(_("Belongs to another shop (%(shop)s).") % {"shop": parcel.shop}),
                parcel.pk,
            )
        elif parcel.status == ParcelStatus.CANCELLED:
            decided[number] = ScanResult(
                number, ScanOutcome.CANCELLED, str(_("The order was cancelled: do not ship.")), parcel.pk
            )
        elif parcel.on_sheet or STATUS_RANK.get(parcel.status, 0) >= handed_over_rank:
            decided[number] = ScanResult(
                number,
                ScanOutcome.HANDED_OVER,
                str(_("Already handed over (%(status)s).") % {"status": parcel.get_status_display()}),
                parcel.pk,
            )
        else:
            to_add.append(parcel)
    if to_add:
        user = _user(by)
        BagItem.objects.bulk_create(
            [BagItem(bag=bag, parcel=parcel, added_by=user) for parcel in to_add], ignore_conflicts=True
        )
        # ignore_conflicts: a concurrent scan into another bag may have won a parcel; ask who holds it.
        holders = dict(
            BagItem.objects.filter(parcel_id__in=[p.pk for p in to_add]).values_list("parcel_id", "bag__number")
        )
        added_ids = []
        for parcel in to_add:
            holder = holders.get(parcel.pk)
            if holder == bag.number:
                added_ids.append(parcel.pk)
                decided[parcel.tracking_no] = ScanResult(
                    parcel.tracking_no, ScanOutcome.ADDED, str(_("Added.")), parcel.pk, bag.number
                )
            else:
                decided[parcel.tracking_no] = ScanResult(
                    parcel.tracking_no,
                    ScanOutcome.IN_OTHER_BAG,
                    str(_("Already in bag %(bag)s.") % {"bag": holder}),
                    parcel.pk,
                    holder or "",
                )
        if added_ids:
            parcel_state.parcels_advance(parcel_ids=added_ids, status=ParcelStatus.BAGGED, reason="bagged")
    results = []
    seen: set[str] = set()
    for number in numbers:
        result = decided[number]
        if number in seen and result.added:
            result = ScanResult(
                number, ScanOutcome.ALREADY_IN_THIS_BAG, str(_("Already in this bag.")), result.parcel_id, bag.number
            )
        seen.add(number)
        results.append(result)
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
def bag_report_lost(*, bag: ConsolidationBag, by, note: str = "") -> ConsolidationBag:
    """Report a picked-up bag lost by the carrier, which opens its claim evidence export."""
    bag = _lock_bag(bag)
    if bag.status != BagStatus.PICKED_UP:
        raise TransitionNotAllowed(
            _("Bag %(bag)s is %(status)s: only a bag the carrier picked up and did not deliver can be reported lost.")
            % {"bag": bag.number, "status": bag.get_status_display()}
        )
    if bag.reported_lost_at is not None:
        return bag
    bag.reported_lost_at = timezone.now()
    bag.save(update_fields=["reported_lost_at"])
    _record(
        bag=bag,
        from_status=bag.status,
        to_status=TRANSITION_REPORTED_LOST,
        by=by,
        reason=note or _("Reported lost by the carrier"),
    )
    return bag


# --------------------------------------------------------------------------- handover sheets


def handover_sheet_problems(
    *,
    shop: Shop,
    pickup_province: str,
    pickup_city: str,
    window_start: datetime.datetime | None,
    window_end: datetime.datetime | None,
    bags: Sequence[ConsolidationBag] = (),
    parcels: Sequence[Parcel] = (),
) -> list[str]:
    """Every reason a sheet with these items cannot be created; the admin form shows them before saving."""
    problems: list[str] = []
    if not pickup_coverage_covers(province=pickup_province, city=pickup_city):
        problems.append(
            _(
                "Official pickup does not cover %(city)s (%(province)s). Use self-delivery: take the parcels "
                "to the carrier's outlet or sorting centre yourself, or choose a covered pickup address."
            )
            % {"city": pickup_city or "—", "province": pickup_province or "—"}
        )
    if window_start and window_end and window_end < window_start:
        problems.append(_("The pickup window ends before it starts."))
    if not bags and not parcels:
        problems.append(_("Put at least one sealed bag or loose parcel on the sheet."))
    bag_ids = [bag.pk for bag in bags]
    on_sheet = set(HandoverItem.objects.filter(bag_id__in=bag_ids, active=True).values_list("bag__number", flat=True))
    for bag in bags:
        if bag.shop_id != shop.pk:
            problems.append(_("Bag %(bag)s belongs to another shop.") % {"bag": bag.number})
        elif bag.number in on_sheet:
            problems.append(_("Bag %(bag)s is already on another handover sheet.") % {"bag": bag.number})
        elif bag.status != BagStatus.SEALED:
            problems.append(
                _("Bag %(bag)s is %(status)s: only sealed bags can be handed over.")
                % {"bag": bag.number, "status": bag.get_status_display()}
            )
    if parcels:
        if shop.platform == Platform.LAZADA:
            problems.append(
                _(
                    "Lazada official pickup takes bagged parcels only: put these parcels into a consolidation "
                    "bag and seal it first (%(parcels)s)."
                )
                % {"parcels": ", ".join(str(p) for p in parcels[:10]) + ("…" if len(parcels) > 10 else "")}
            )
        parcel_ids = [p.pk for p in parcels]
        in_bag = dict(BagItem.objects.filter(parcel_id__in=parcel_ids).values_list("parcel_id", "bag__number"))
        loose_on_sheet = set(
            HandoverItem.objects.filter(parcel_id__in=parcel_ids, active=True).values_list("parcel_id", flat=True)
        )
        handed_over_rank = STATUS_RANK[ParcelStatus.HANDED_OVER]
        for parcel in parcels:
            if parcel.shop_id != shop.pk:
                problems.append(_("Parcel %(parcel)s belongs to another shop.") % {"parcel": parcel})
            elif parcel.pk in in_bag:
                problems.append(
                    _("Parcel %(parcel)s is in bag %(bag)s: hand over the bag instead.")
                    % {"parcel": parcel, "bag": in_bag[parcel.pk]}
                )
            elif parcel.status == ParcelStatus.CANCELLED:
                problems.append(_("Parcel %(parcel)s was cancelled: do not ship it.") % {"parcel": parcel})
            elif parcel.pk in loose_on_sheet or STATUS_RANK.get(parcel.status, 0) >= handed_over_rank:
                problems.append(_("Parcel %(parcel)s is already handed over.") % {"parcel": parcel})
            elif not parcel.tracking_no:
                problems.append(_("Parcel %(parcel)s has no tracking number yet.") % {"parcel": parcel})
    return [str(p) for p in problems]


@transaction.atomic
def handover_sheet_create(
    *,
    shop: Shop,
    carrier: Carrier,
    pickup_address: str,
    pickup_province: str,
    pickup_city: str,
    window_start: datetime.datetime,
    window_end: datetime.datetime,
    bags: Sequence[ConsolidationBag] = (),
    parcels: Sequence[Parcel] = (),
    by,
) -> HandoverSheet:
    """A draft sheet with sealed bags and (where the channel allows) loose parcels, for a covered city.

    The bags become `handed_over`, their parcels and the loose parcels `handed_over` (never backwards).
    """
    bags = list(
        ConsolidationBag.objects.select_for_update(of=("self",)).filter(pk__in=[b.pk for b in bags]).order_by("pk")
    )
    parcels = list(Parcel.objects.select_for_update(of=("self",)).filter(pk__in=[p.pk for p in parcels]).order_by("pk"))
    problems = handover_sheet_problems(
        shop=shop,
        pickup_province=pickup_province,
        pickup_city=pickup_city,
        window_start=window_start,
        window_end=window_end,
        bags=bags,
        parcels=parcels,
    )
    if problems:
        raise TransitionNotAllowed(problems, code="sheet_problems")
    sheet = HandoverSheet.objects.create(
        number=f"new-{timezone.now().timestamp()}-{shop.pk}",
        shop=shop,
        carrier=carrier,
        pickup_address=pickup_address,
        pickup_province=pickup_province,
        pickup_city=pickup_city,
        window_start=window_start,
        window_end=window_end,
        created_by=_user(by),
    )
    sheet.number = _generate_number("HS", sheet.pk)
    sheet.save(update_fields=["number"])
    HandoverItem.objects.bulk_create(
        [HandoverItem(sheet=sheet, bag=bag) for bag in bags] + [HandoverItem(sheet=sheet, parcel=p) for p in parcels]
    )
    ConsolidationBag.objects.filter(pk__in=[b.pk for b in bags], status=BagStatus.SEALED).update(
        status=BagStatus.HANDED_OVER
    )
    user = _user(by)
    reason = _("Put on handover sheet %(sheet)s") % {"sheet": sheet.number}
    Transition.objects.bulk_create(
        [Transition(sheet=sheet, from_status="", to_status=SheetStatus.DRAFT, by=user)]
        + [
            Transition(bag=bag, from_status=BagStatus.SEALED, to_status=BagStatus.HANDED_OVER, by=user, reason=reason)
            for bag in bags
        ]
    )
    bagged_ids = list(BagItem.objects.filter(bag__in=bags).values_list("parcel_id", flat=True))
    moved = bagged_ids + [p.pk for p in parcels]
    parcel_state.parcels_advance(parcel_ids=moved, status=ParcelStatus.HANDED_OVER, reason="handed_over")
    return sheet


def _lock_sheet(sheet: HandoverSheet) -> HandoverSheet:
    return HandoverSheet.objects.select_for_update(of=("self",)).get(pk=sheet.pk)


def transition_refused(sheet: HandoverSheet, action) -> TransitionNotAllowed:
    if sheet.status == SheetStatus.PICKED_UP:
        when = timezone.localtime(sheet.picked_up_at).strftime("%Y-%m-%d %H:%M")
        message = _(
            "Handover sheet %(sheet)s cannot be %(action)s: the pickup agent %(agent)s confirmed the pickup "
            "at %(when)s."
        ) % {"sheet": sheet.number, "action": action, "agent": sheet.pickup_agent or "—", "when": when}
    elif sheet.status == SheetStatus.CANCELLED:
        message = _("Handover sheet %(sheet)s cannot be %(action)s: it was cancelled (%(reason)s).") % {
            "sheet": sheet.number,
            "action": action,
            "reason": sheet.cancel_reason,
        }
    else:
        message = _("Handover sheet %(sheet)s cannot be %(action)s while it is %(status)s.") % {
            "sheet": sheet.number,
            "action": action,
            "status": sheet.get_status_display(),
        }
    return TransitionNotAllowed(message, code="transition_not_allowed")


@transaction.atomic
def handover_sheet_book(*, sheet: HandoverSheet, by) -> HandoverSheet:
    sheet = _lock_sheet(sheet)
    if not sheet.can_become(SheetStatus.BOOKED):
        raise transition_refused(sheet, _("booked"))
    sheet.status = SheetStatus.BOOKED
    sheet.booked_at = timezone.now()
    sheet.save(update_fields=["status", "booked_at"])
    _record(sheet=sheet, from_status=SheetStatus.DRAFT, to_status=SheetStatus.BOOKED, by=by)
    return sheet


@transaction.atomic
def handover_sheet_cancel(*, sheet: HandoverSheet, by, reason: str) -> HandoverSheet:
    """Cancel a draft or booked sheet: its bags go back to sealed and its parcels back, free for another sheet.

    The sheet row is locked first, so a pickup confirmation running at the same time either
    happened before (and the cancellation is refused) or waits and is refused itself.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for cancelling the handover sheet."), code="reason_required")
    sheet = _lock_sheet(sheet)
    if not sheet.can_become(SheetStatus.CANCELLED):
        raise transition_refused(sheet, _("cancelled"))
    from_status = sheet.status
    now = timezone.now()
    sheet.status = SheetStatus.CANCELLED
    sheet.cancelled_at = now
    sheet.cancelled_by = _user(by)
    sheet.cancel_reason = reason
    sheet.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    items = HandoverItem.objects.filter(sheet=sheet, active=True)
    bag_ids = list(items.filter(bag__isnull=False).values_list("bag_id", flat=True))
    loose_ids = list(items.filter(parcel__isnull=False).values_list("parcel_id", flat=True))
    items.update(active=False)
    ConsolidationBag.objects.filter(pk__in=bag_ids, status=BagStatus.HANDED_OVER).update(status=BagStatus.SEALED)
    user = _user(by)
    freed = _("Handover sheet %(sheet)s cancelled: %(reason)s") % {"sheet": sheet.number, "reason": reason}
    Transition.objects.bulk_create(
        [Transition(sheet=sheet, from_status=from_status, to_status=SheetStatus.CANCELLED, by=user, reason=reason)]
        + [
            Transition(
                bag_id=bag_id, from_status=BagStatus.HANDED_OVER, to_status=BagStatus.SEALED, by=user, reason=freed
            )
            for bag_id in bag_ids
        ]
    )
    bagged_ids = list(BagItem.objects.filter(bag_id__in=bag_ids).values_list("parcel_id", flat=True))
    parcel_state.parcels_leave_sheet(bagged_ids=bagged_ids, loose_ids=loose_ids)
    return sheet


@transaction.atomic
def handover_sheet_confirm_pickup(
    *, sheet: HandoverSheet, picked_up_at: datetime.datetime, agent: str, by=None
) -> HandoverSheet:
    """Record the pickup agent's confirmation: the sheet, its bags and its loose parcels are picked up.

    Bagged parcels keep their status until their sorting-centre inbound scan, when their pickup time
    is back-dated to the bag's (pickups.receivers). From here on the sheet can never be cancelled.
    """
    if picked_up_at is None:
        raise ValidationError(_("Enter the time of the pickup."), code="time_required")
    if timezone.is_naive(picked_up_at):
        picked_up_at = timezone.make_aware(picked_up_at)
    if picked_up_at > timezone.now() + PICKUP_CLOCK_TOLERANCE:
        raise ValidationError(_("The pickup time is in the future: check the date and time."), code="future")
    sheet = _lock_sheet(sheet)
    if not sheet.can_become(SheetStatus.PICKED_UP):
        if sheet.status == SheetStatus.DRAFT:
            raise TransitionNotAllowed(
                _("Handover sheet %(sheet)s is still a draft: book it before recording the pickup.")
                % {"sheet": sheet.number},
                code="not_booked",
            )
        raise transition_refused(sheet, _("confirmed as picked up"))
    sheet.status = SheetStatus.PICKED_UP
    sheet.picked_up_at = picked_up_at
    sheet.pickup_agent = (agent or "").strip()[:200]
    sheet.save(update_fields=["status", "picked_up_at", "pickup_agent"])
    items = HandoverItem.objects.filter(sheet=sheet, active=True)
    bag_ids = list(items.filter(bag__isnull=False).values_list("bag_id", flat=True))
    loose_ids = list(items.filter(parcel__isnull=False).values_list("parcel_id", flat=True))
    ConsolidationBag.objects.filter(pk__in=bag_ids, status=BagStatus.HANDED_OVER).update(
        status=BagStatus.PICKED_UP, picked_up_at=picked_up_at
    )
    user = _user(by)
    agent_note = _("Picked up by %(agent)s") % {"agent": sheet.pickup_agent or "—"}
    Transition.objects.bulk_create(
        [
            Transition(
                sheet=sheet,
                from_status=SheetStatus.BOOKED,
                to_status=SheetStatus.PICKED_UP,
                by=user,
                reason=agent_note,
            )
        ]
        + [
            Transition(
                bag_id=bag_id,
                from_status=BagStatus.HANDED_OVER,
                to_status=BagStatus.PICKED_UP,
                by=user,
                reason=agent_note,
            )
            for bag_id in bag_ids
        ]
    )
    # Bagged parcels already scanned in at the sorting centre are back-dated by the pickups step.
    bagged_ids = list(BagItem.objects.filter(bag_id__in=bag_ids).values_list("parcel_id", flat=True))
    parcel_state.parcels_pick_up(parcel_ids=loose_ids, at=picked_up_at, rederive=bagged_ids)
    return sheet
