"""What the planner hands to the replay: import rows and warehouse actions, each with its instant.

Plain frozen records (no model, no database): rows are the string dicts an import file would hold
(DESIGN.md, "Import formats"); actions name the service call a clerk or manager would make. Bags and
sheets are named by a plan key because their numbers are only given by the services.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import ClassVar

ORDERS, EVENTS, TICKETS = "import_orders", "import_events", "import_tickets"
REGIONS, ROUTE_STANDARDS, COVERAGE = "import_regions", "import_route_standards", "import_coverage"
IMPORTED = (ORDERS, EVENTS, TICKETS)  # the rows that arrive along the week (the others come first)


@dataclass(frozen=True)
class ImportRow:
    """One row of an import file, known to the platform or carrier at `at`."""

    at: datetime.datetime
    command: str
    row: dict[str, str]


@dataclass(frozen=True)
class Action:
    at: datetime.datetime
    # The imports whose rows known by `at` must be in before the action (the parcels it names).
    needs: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class MarkReadyToShip(Action):
    """The clerk selects parcels and uses Mark ready to ship (Lazada: order ready for pickup)."""

    needs: ClassVar[tuple[str, ...]] = (ORDERS,)

    carrier_code: str
    tracking_numbers: tuple[str, ...]


@dataclass(frozen=True)
class CancelParcel(Action):
    """The buyer's refund before the parcel is ready to ship: its order's one untracked parcel."""

    needs: ClassVar[tuple[str, ...]] = (ORDERS,)

    platform: str
    order_id: str
    reason: str


@dataclass(frozen=True)
class PackBag(Action):
    """Open a bag, scan the parcels in, weigh and measure it (sealed later, or still being filled)."""

    bag: str
    shop_code: str
    sorting_centre: str
    tracking_numbers: tuple[str, ...]
    gross_weight_kg: str
    length_cm: str
    width_cm: str
    height_cm: str


@dataclass(frozen=True)
class SealBag(Action):
    bag: str


@dataclass(frozen=True)
class BookSheet(Action):
    """Create a handover sheet with sealed bags and book the pickup."""

    sheet: str
    shop_code: str
    carrier_code: str
    bags: tuple[str, ...]
    window_start: datetime.datetime
    window_end: datetime.datetime


@dataclass(frozen=True)
class CancelSheet(Action):
    sheet: str
    reason: str


@dataclass(frozen=True)
class ConfirmPickup(Action):
    """The pickup agent's confirmation, recorded at the pickup time (`at`)."""

    sheet: str
    agent: str


@dataclass(frozen=True)
class ReportBagLost(Action):
    bag: str
    note: str


@dataclass(frozen=True)
class AnswerTicket(Action):
    needs: ClassVar[tuple[str, ...]] = (TICKETS,)

    platform: str
    order_id: str
    tracking_no: str
    opened_at: datetime.datetime
    response: str


@dataclass
class DemoPlan:
    """The week, from `start` to `now`: reference rows first, then rows, actions and scans in time order."""

    now: datetime.datetime
    start: datetime.datetime
    reference: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    holiday_years: tuple[int, ...] = ()
    rows: list[ImportRow] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    scans: list[datetime.datetime] = field(default_factory=list)

    def rows_of(self, command: str) -> list[dict[str, str]]:
        """Every row of one import, in time order (what a file of the whole week would hold)."""
        return [r.row for r in self.rows if r.command == command]
