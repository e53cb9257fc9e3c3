"""What a scan into a bag answers: an outcome, and the facts its message is made of.

The message is written when it is read (`ScanResult.message`), in the language active then, so the
scan page's log, kept in the session, reads in the language the clerk has switched to since.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.utils.translation import gettext

from fulfillment.models import ParcelStatus


class ScanOutcome(enum.StrEnum):
    ADDED = "added"
    UNKNOWN = "unknown"
    ALREADY_IN_THIS_BAG = "already_in_this_bag"
    IN_OTHER_BAG = "in_other_bag"
    OTHER_SHOP = "other_shop"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"
    OTHER_CARRIER = "other_carrier"
    NOT_READY_TO_SHIP = "not_ready_to_ship"


def scan_message(outcome: str, details: dict | None = None) -> str:
    """The clerk's sentence for an outcome; `details` are the names in it (bag, sheet, shop …)."""
    details = details or {}
    if outcome == ScanOutcome.ADDED:
        return gettext("Added.")
    if outcome == ScanOutcome.UNKNOWN:
        return gettext("Unknown tracking number.")
    if outcome == ScanOutcome.ALREADY_IN_THIS_BAG:
        return gettext("Already in this bag.")
    if outcome == ScanOutcome.IN_OTHER_BAG:
        return gettext("Already in bag %(bag)s.") % details
    if outcome == ScanOutcome.OTHER_SHOP:
        if details.get("shop"):
            return gettext("Belongs to another shop (%(shop)s).") % details
        return gettext("Belongs to another shop.")
    if outcome == ScanOutcome.CANCELLED:
        return gettext("The order was cancelled: do not ship.")
    if outcome == ScanOutcome.HANDED_OVER:
        return _handed_over_message(details)
    if outcome == ScanOutcome.OTHER_CARRIER:
        return gettext("Carried by %(carrier)s; this bag holds %(bag_carrier)s parcels (one carrier per bag).") % details
    return gettext("Not ready to ship yet: Lazada takes a parcel into a bag only once it is marked ready to ship.")


def _handed_over_message(details: dict) -> str:
    if details.get("sheet") and details.get("bag"):
        return gettext("Handed over on sheet %(sheet)s, in bag %(bag)s.") % details
    if details.get("sheet"):
        return gettext("Handed over on sheet %(sheet)s.") % details
    status = details.get("status", "")
    label = ParcelStatus(status).label if status in ParcelStatus.values else status
    return gettext("Already handed over (%(status)s).") % {"status": label}


@dataclass(frozen=True)
class ScanResult:
    tracking_no: str
    outcome: ScanOutcome
    parcel_id: int | None = None
    other_bag: str = ""
    details: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def added(self) -> bool:
        return self.outcome == ScanOutcome.ADDED

    @property
    def message(self) -> str:
        return scan_message(self.outcome, self.details)
