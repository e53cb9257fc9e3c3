"""Pickup handover sheets: the problems of a draft, create, book, cancel (before pickup only), confirm pickup."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import TransitionNotAllowed
from fulfillment import parcel_state
from fulfillment.models import STATUS_RANK, Carrier, Parcel, ParcelStatus, Platform, Shop

from ..models import (
    BagItem,
    BagStatus,
    ConsolidationBag,
    HandoverItem,
    HandoverSheet,
    SheetStatus,
    Transition,
)
from ..selectors import pickup_coverage_covers
from .common import PICKUP_CLOCK_TOLERANCE, _generate_number, _record, _user, system_reason


def handover_sheet_problems(
    *,
    shop: Shop,
    pickup_province: str,
    pickup_city: str,
    window_start: datetime.datetime | None,
    window_end: datetime.datetime | None,
    bags: Sequence[ConsolidationBag] = (),
    parcels: Sequence[Parcel] = (),
    empty_ok: bool = False,
    carrier: Carrier | None = None,
) -> list[str]:
    """Every reason a sheet with these items cannot be created (`empty_ok`: the caller reports why
    it has no items itself)."""
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
    if not bags and not parcels and not empty_ok:
        problems.append(_("Put at least one sealed bag or loose parcel on the sheet."))
    bag_ids = [bag.pk for bag in bags]
    if carrier is not None:
        problems += _carrier_problems(carrier, bags, parcels)
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


def _carrier_problems(carrier: Carrier, bags: Sequence[ConsolidationBag], parcels: Sequence[Parcel]) -> list[str]:
    """The pickup provider is the carrier of every bag and loose parcel on the sheet."""
    problems = []
    carried = BagItem.objects.filter(bag_id__in=[b.pk for b in bags]).exclude(parcel__carrier=carrier)
    for number, code in carried.values_list("bag__number", "parcel__carrier__code").distinct().order_by("bag__number"):
        problems.append(
            _("Bag %(bag)s holds %(other)s parcels; the pickup provider is %(carrier)s.")
            % {"bag": number, "other": code, "carrier": carrier.code}
        )
    for parcel in parcels:
        if parcel.carrier_id != carrier.pk:
            problems.append(
                _("Parcel %(parcel)s is carried by %(other)s; the pickup provider is %(carrier)s.")
                % {"parcel": parcel, "other": parcel.carrier.code if parcel.carrier else "—", "carrier": carrier.code}
            )
    return problems


@dataclass
class SheetDraft:
    """A handover sheet as a clerk typed it, resolved: the pickup address (the shop's where left
    empty), the loose parcels behind the tracking numbers, and every problem that refuses it."""

    pickup_address: str
    pickup_province: str
    pickup_city: str
    parcels: list[Parcel] = field(default_factory=list)
    unknown_numbers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def handover_sheet_draft(
    *,
    shop: Shop,
    carrier: Carrier | None = None,
    pickup_address: str = "",
    pickup_province: str = "",
    pickup_city: str = "",
    window_start: datetime.datetime | None,
    window_end: datetime.datetime | None,
    bags: Sequence[ConsolidationBag] = (),
    loose_tracking_numbers: Sequence[str] = (),
) -> SheetDraft:
    """The one validation of a new sheet, shared by the admin form, the imports and the API: the form
    shows `problems` (and `unknown_numbers` beside its field); `handover_sheet_create` refuses them."""
    draft = SheetDraft(
        pickup_address=(pickup_address or "").strip() or shop.pickup_address,
        pickup_province=(pickup_province or "").strip() or shop.pickup_province,
        pickup_city=(pickup_city or "").strip() or shop.pickup_city,
    )
    if not draft.pickup_address:
        draft.problems.append(str(_("The shop has no pickup address: enter one.")))
    numbers = list(dict.fromkeys(n for n in loose_tracking_numbers if n))
    found: dict[str, Parcel] = {}
    for parcel in Parcel.objects.filter(tracking_no__in=numbers).order_by("pk"):
        if parcel.tracking_no not in found or parcel.shop_id == shop.pk:
            found[parcel.tracking_no] = parcel
    draft.unknown_numbers = [n for n in numbers if n not in found]
    draft.parcels = list({p.pk: p for p in found.values()}.values())
    draft.problems += handover_sheet_problems(
        shop=shop,
        pickup_province=draft.pickup_province,
        pickup_city=draft.pickup_city,
        window_start=window_start,
        window_end=window_end,
        bags=list(bags),
        parcels=draft.parcels,
        empty_ok=bool(draft.unknown_numbers),
        carrier=carrier,
    )
    return draft


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
        carrier=carrier,
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
    reason = system_reason("put_on_sheet", sheet=sheet.number)
    Transition.objects.bulk_create(
        [Transition(sheet=sheet, from_status="", to_status=SheetStatus.DRAFT, by=user)]
        + [
            Transition(bag=bag, from_status=BagStatus.SEALED, to_status=BagStatus.HANDED_OVER, by=user, **reason)
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
    freed = system_reason("sheet_cancelled", sheet=sheet.number, reason=reason)
    Transition.objects.bulk_create(
        [Transition(sheet=sheet, from_status=from_status, to_status=SheetStatus.CANCELLED, by=user, reason=reason)]
        + [
            Transition(
                bag_id=bag_id, from_status=BagStatus.HANDED_OVER, to_status=BagStatus.SEALED, by=user, **freed
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
    is back-dated to the bag's (`pickups.derivations`). From here on the sheet can never be cancelled.
    The pickup time is not in the future (10 min tolerance), not before the sheet was booked and not
    before any of its parcels was paid: a wrong date would back-date parcels to before they existed.
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
    _check_pickup_time(sheet, picked_up_at)
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
    agent_note = system_reason("picked_up_by", agent=sheet.pickup_agent or "—")
    Transition.objects.bulk_create(
        [
            Transition(
                sheet=sheet,
                from_status=SheetStatus.BOOKED,
                to_status=SheetStatus.PICKED_UP,
                by=user,
                **agent_note,
            )
        ]
        + [
            Transition(
                bag_id=bag_id,
                from_status=BagStatus.HANDED_OVER,
                to_status=BagStatus.PICKED_UP,
                by=user,
                **agent_note,
            )
            for bag_id in bag_ids
        ]
    )
    # Bagged parcels already scanned in at the sorting centre are back-dated by the pickups step.
    bagged_ids = list(BagItem.objects.filter(bag_id__in=bag_ids).values_list("parcel_id", flat=True))
    parcel_state.parcels_pick_up(parcel_ids=loose_ids, at=picked_up_at, rederive=bagged_ids)
    return sheet


def _check_pickup_time(sheet: HandoverSheet, picked_up_at: datetime.datetime) -> None:
    """Refuse a pickup recorded before the sheet was booked or before one of its parcels was paid."""
    shown = "%Y-%m-%d %H:%M"

    def minute(moment: datetime.datetime) -> datetime.datetime:  # pickup times are typed to the minute
        return moment.replace(second=0, microsecond=0)

    if sheet.booked_at and picked_up_at < minute(sheet.booked_at):
        raise ValidationError(
            _("The pickup time %(when)s is before the sheet was booked (%(booked)s): check the date.")
            % {
                "when": timezone.localtime(picked_up_at).strftime(shown),
                "booked": timezone.localtime(sheet.booked_at).strftime(shown),
            },
            code="before_booking",
        )
    items = HandoverItem.objects.filter(sheet=sheet, active=True)
    latest_paid = Parcel.objects.filter(
        Q(pk__in=items.filter(parcel__isnull=False).values("parcel_id"))
        | Q(bag_item__bag_id__in=items.filter(bag__isnull=False).values("bag_id"))
    ).aggregate(latest=Max("paid_at"))["latest"]
    if latest_paid and picked_up_at < minute(latest_paid):
        raise ValidationError(
            _("The pickup time %(when)s is before one of the sheet's parcels was paid (%(paid)s): check the date.")
            % {
                "when": timezone.localtime(picked_up_at).strftime(shown),
                "paid": timezone.localtime(latest_paid).strftime(shown),
            },
            code="before_payment",
        )
