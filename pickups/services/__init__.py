"""Writes of the pickup workflow: bags, handover sheets, cancellation, pickup confirmation (DESIGN.md).

Every transition runs in one transaction, re-reads the bag or sheet under a row lock
(`select_for_update(of=("self",))`), checks the model's TRANSITIONS map, raises
`TransitionNotAllowed` with a message a clerk understands, writes the change as set-based UPDATEs
and records who, when and why in `Transition`. Parcels whose status or milestones change are
moved by fulfillment's parcel-state operations (`fulfillment.parcel_state`), never written here.
"""

from core.errors import TransitionNotAllowed

from .bags import (
    bag_add_parcels,
    bag_create,
    bag_remove_parcel,
    bag_reopen,
    bag_report_lost,
    bag_seal,
    split_tracking_numbers,
)
from .common import PICKUP_CLOCK_TOLERANCE, TRANSITION_REPORTED_LOST
from .measurements import bag_measure
from .printing import printer_preference_set
from .scan_results import ScanOutcome, ScanResult, scan_message
from .sheets import (
    SheetDraft,
    handover_sheet_book,
    handover_sheet_cancel,
    handover_sheet_confirm_pickup,
    handover_sheet_create,
    handover_sheet_draft,
    handover_sheet_problems,
    transition_refused,
)

__all__ = [
    "printer_preference_set",
    "PICKUP_CLOCK_TOLERANCE",
    "TRANSITION_REPORTED_LOST",
    "ScanOutcome",
    "ScanResult",
    "SheetDraft",
    "TransitionNotAllowed",
    "bag_add_parcels",
    "bag_create",
    "bag_measure",
    "bag_remove_parcel",
    "bag_reopen",
    "bag_report_lost",
    "bag_seal",
    "handover_sheet_book",
    "handover_sheet_cancel",
    "handover_sheet_confirm_pickup",
    "handover_sheet_create",
    "handover_sheet_draft",
    "handover_sheet_problems",
    "scan_message",
    "split_tracking_numbers",
    "transition_refused",
]
