"""Building a handover sheet by scanning: each scanned bag label (Code 128 of the bag number) or loose
parcel's tracking number is normalised and checked against the sheet's shop and pickup provider,
with one verdict a clerk can read per scan. Nothing is written: the sheet is created from the
accepted codes by `handover_sheet_create`, which checks everything again under row locks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from fulfillment.access import may_see_shop
from fulfillment.models import Carrier, Parcel, ParcelStatus, Platform, Shop

from ..models import BagItem, BagStatus, ConsolidationBag, HandoverItem
from .scanning import normalize_tracking_number

# Parcels a clerk may still put loose on a sheet (the service refuses the others, and so do we).
HANDABLE_PARCEL_STATUSES = (ParcelStatus.SHIPPED, ParcelStatus.READY_TO_SHIP)


@dataclass(frozen=True)
class SheetScan:
    """The verdict on one scanned code: `outcome` is `added` or the reason it was refused."""

    code: str
    outcome: str
    message: str
    bag: ConsolidationBag | None = None
    parcel: Parcel | None = None

    @property
    def added(self) -> bool:
        return self.outcome == "added"

    def as_json(self) -> dict:
        item = self.bag or self.parcel
        return {
            "code": self.code,
            "outcome": self.outcome,
            "added": self.added,
            "message": self.message,
            "kind": "bag" if self.bag else "parcel" if self.parcel else None,
            "pk": item.pk if item is not None else None,
        }


def handover_sheet_check_scans(
    *, shop: Shop | None, carrier: Carrier | None, codes: Sequence[str], user=None
) -> list[SheetScan]:
    """One verdict per code, in scanning order: added, or refused (not sealed, other carrier, other
    shop, already on a sheet, not ready, scanned twice, unknown). A code of a shop `user` may not see
    is unknown to them."""
    codes = [normalize_tracking_number(code) for code in codes]
    codes = [code for code in codes if code]
    if shop is None or carrier is None:
        message = _("Choose the shop and the pickup provider before scanning.")
        return [SheetScan(code, "choose_shop", message) for code in codes]
    bags = {bag.number.upper(): bag for bag in _bags_numbered(codes) if may_see_shop(user, bag.shop_id)}
    parcels = _parcels_tracked(codes, shop=shop, carrier=carrier, user=user)
    seen: set[str] = set()
    verdicts = []
    for code in codes:
        if code in seen:
            verdicts.append(SheetScan(code, "duplicate", _("%(code)s was scanned already.") % {"code": code}))
            continue
        seen.add(code)
        if code in bags:
            verdicts.append(_bag_verdict(code, bags[code], shop=shop, carrier=carrier))
        elif code in parcels:
            verdicts.append(_parcel_verdict(code, parcels[code], shop=shop, carrier=carrier))
        else:
            message = _("%(code)s is neither a bag number nor a tracking number known here.") % {"code": code}
            verdicts.append(SheetScan(code, "unknown", message))
    return verdicts


def _bags_numbered(codes: Iterable[str]) -> list[ConsolidationBag]:
    condition = Q()
    for code in set(codes):
        condition |= Q(number__iexact=code)
    if not condition:
        return []
    return list(ConsolidationBag.objects.filter(condition).select_related("shop"))


def _parcels_tracked(codes: Sequence[str], *, shop: Shop, carrier: Carrier, user) -> dict[str, Parcel]:
    """The parcel behind each tracking number; where two carriers reuse a number, the sheet's own
    shop and carrier win."""
    found: dict[str, Parcel] = {}
    queryset = Parcel.objects.filter(tracking_no__in=set(codes)).select_related("shop", "carrier").order_by("pk")
    for parcel in queryset:
        if not may_see_shop(user, parcel.shop_id):
            continue
        best = found.get(parcel.tracking_no)
        if best is None or (parcel.shop_id, parcel.carrier_id) == (shop.pk, carrier.pk):
            found[parcel.tracking_no] = parcel
    return found


def _bag_verdict(code: str, bag: ConsolidationBag, *, shop: Shop, carrier: Carrier) -> SheetScan:
    def refused(outcome, message):
        return SheetScan(code, outcome, message, bag=bag)

    if bag.shop_id != shop.pk:
        return refused("other_shop", _("Bag %(bag)s belongs to another shop.") % {"bag": bag.number})
    on_sheet = HandoverItem.objects.filter(bag=bag, active=True).values_list("sheet__number", flat=True).first()
    if on_sheet:
        return refused(
            "on_sheet",
            _("Bag %(bag)s is already on handover sheet %(sheet)s.") % {"bag": bag.number, "sheet": on_sheet},
        )
    if bag.status != BagStatus.SEALED:
        return refused(
            "not_sealed",
            _("Bag %(bag)s is %(status)s: only sealed bags can be handed over.")
            % {"bag": bag.number, "status": bag.get_status_display()},
        )
    other = BagItem.objects.filter(bag=bag).exclude(parcel__carrier=carrier).values_list("parcel__carrier__code", flat=True)
    other_code = other.first()
    if other_code is not None:
        return refused(
            "other_carrier",
            _("Bag %(bag)s holds %(other)s parcels; the pickup provider is %(carrier)s.")
            % {"bag": bag.number, "other": other_code or "—", "carrier": carrier.code},
        )
    count = BagItem.objects.filter(bag=bag).count()
    return SheetScan(
        code, "added", _("Bag %(bag)s added (%(count)d parcels).") % {"bag": bag.number, "count": count}, bag=bag
    )


def _parcel_verdict(code: str, parcel: Parcel, *, shop: Shop, carrier: Carrier) -> SheetScan:
    def refused(outcome, message):
        return SheetScan(code, outcome, message, parcel=parcel)

    if parcel.shop_id != shop.pk:
        return refused("other_shop", _("Parcel %(parcel)s belongs to another shop.") % {"parcel": code})
    if parcel.carrier_id != carrier.pk:
        return refused(
            "other_carrier",
            _("Parcel %(parcel)s is carried by %(other)s; the pickup provider is %(carrier)s.")
            % {"parcel": code, "other": parcel.carrier.code if parcel.carrier else "—", "carrier": carrier.code},
        )
    bag_number = BagItem.objects.filter(parcel=parcel).values_list("bag__number", flat=True).first()
    if bag_number:
        return refused(
            "in_bag",
            _("Parcel %(parcel)s is in bag %(bag)s: scan the bag's label instead.")
            % {"parcel": code, "bag": bag_number},
        )
    if HandoverItem.objects.filter(parcel=parcel, active=True).exists():
        return refused("on_sheet", _("Parcel %(parcel)s is already handed over.") % {"parcel": code})
    if shop.platform == Platform.LAZADA:
        return refused(
            "bags_only",
            _("Lazada official pickup takes bagged parcels only: put %(parcel)s into a bag and seal it first.")
            % {"parcel": code},
        )
    if parcel.status not in HANDABLE_PARCEL_STATUSES:
        return refused(
            "not_ready",
            _("Parcel %(parcel)s is %(status)s: it cannot be handed over.")
            % {"parcel": code, "status": parcel.get_status_display()},
        )
    return SheetScan(code, "added", _("Parcel %(parcel)s added as a loose parcel.") % {"parcel": code}, parcel=parcel)
