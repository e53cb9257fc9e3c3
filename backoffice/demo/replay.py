"""Replay a planned week through the real importers and services only, in time order.

Every row goes through the importer of its command (`import_orders`, `import_events`, ...), fed
from memory as `HolidayImporter` feeds itself from `chinese-calendar`; every warehouse action is the
service a clerk's click calls (`bag_seal`, `handover_sheet_book`, ...); and `scan(now=...)` runs
every six hours of the week as Celery beat would. So parcels, milestones, deadlines, alerts, bags
and sheets are what the code computes; the demo cannot drift from the import rules.

The services stamp `timezone.now()` (a seal, a booking, a cancellation, an answer), so the replay
runs under a travelling clock (time-machine) moved to each instant before it acts: a bag sealed on
Tuesday at 15:20 says so. Rows are imported in time order, in one import per kind before each
scan and before each action that names them (`Action.needs`): a dozen imports a day, as an ERP's
exports would arrive. An importer or service refusing anything the plan did raises `DemoDrift`.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import time_machine
from django.forms import modelform_factory

from fulfillment import services as fulfillment_services
from fulfillment.importers import (
    EventImporter,
    HolidayImporter,
    ImportRefused,
    OrderImporter,
    RegionImporter,
    run_import,
)
from fulfillment.models import Carrier, Parcel
from monitoring import services as monitoring_services
from monitoring.importers import RouteStandardImporter, TicketImporter
from monitoring.models import StagnationTicket
from pickups import services as pickup_services
from pickups.importers import CoverageImporter
from pickups.models import ConsolidationBag

from . import records as r
from .directory import create_directory

IMPORTERS = {
    r.ORDERS: OrderImporter,
    r.EVENTS: EventImporter,
    r.TICKETS: TicketImporter,
    r.REGIONS: RegionImporter,
    r.ROUTE_STANDARDS: RouteStandardImporter,
    r.COVERAGE: CoverageImporter,
}
# The bag's weight and size, entered in the bag's change form (no service takes them).
BagMeasureForm = modelform_factory(ConsolidationBag, fields=("gross_weight_kg", "length_cm", "width_cm", "height_cm"))
QUIET_LOGGERS = ("fulfillment.services", "pickups.services", "monitoring.services")


class DemoDrift(RuntimeError):
    """An importer or service refused what the plan did: the planner broke a rule of the code."""


class _PlannedRows:
    """Mixin for an importer: read the given rows instead of a file."""

    def __init__(self, *, planned_rows: list[dict[str, str]], **options):
        super().__init__(**options)
        self.planned_rows = planned_rows

    def rows(self):
        return enumerate(self.planned_rows, start=1)

    def source_label(self):
        return f"seed_demo ({self.command})"


def _planned(importer_class: type) -> type:
    return type(f"Planned{importer_class.__name__}", (_PlannedRows, importer_class), {})


PLANNED_IMPORTERS = {command: _planned(importer_class) for command, importer_class in IMPORTERS.items()}


def import_rows(command: str, rows: list[dict[str, str]], **options):
    """Run one import of `rows` (string dicts, as a file would give); returns its ImportReport."""
    return _run(PLANNED_IMPORTERS[command](planned_rows=rows, **options))


def import_holidays(year: int):
    """The mainland schedule of `year`, as `import_holidays --year` imports it."""
    return _run(HolidayImporter(year=year))


def _run(importer):
    with tempfile.TemporaryDirectory() as folder:
        errors = Path(folder) / f"{importer.command}.errors.csv"
        report = run_import(importer, None, stdout=io.StringIO(), stderr=io.StringIO(), errors_path=str(errors))
        if report.rejected:
            lines = errors.read_text(encoding="utf-8-sig").splitlines()[1:6]
            raise DemoDrift(f"{importer.command} rejected {report.rejected} row(s): {'; '.join(lines)}")
    return report


@contextlib.contextmanager
def quiet_services() -> Iterator[None]:
    """The services log every batch at INFO: too chatty for a replay of a week."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for each, level in zip(loggers, levels, strict=True):
            each.setLevel(level)


class Replay:
    """Plays a `DemoPlan` forward; `progress(at)` is called after each scan."""

    def __init__(self, plan: r.DemoPlan, *, clerk, manager, progress: Callable[[datetime.datetime], None] | None = None):
        self.plan = plan
        self.clerk = clerk
        self.manager = manager
        self.progress = progress or (lambda at: None)
        self.pending = {command: [row for row in plan.rows if row.command == command] for command in r.IMPORTED}
        self.shops: dict = {}
        self.carriers: dict[str, Carrier] = {}
        self.bags: dict[str, ConsolidationBag] = {}
        self.sheets: dict = {}
        self.warnings: list[str] = []
        self.handlers = {
            r.MarkReadyToShip: self.mark_ready_to_ship,
            r.CancelParcel: self.cancel_parcel,
            r.PackBag: self.pack_bag,
            r.SealBag: self.seal_bag,
            r.BookSheet: self.book_sheet,
            r.CancelSheet: self.cancel_sheet,
            r.ConfirmPickup: self.confirm_pickup,
            r.ReportBagLost: self.report_bag_lost,
            r.AnswerTicket: self.answer_ticket,
        }

    def run(self) -> None:
        with quiet_services(), time_machine.travel(self.plan.start, tick=False) as clock:
            self.shops = create_directory(self.plan.now)
            self.import_reference()
            self.carriers = {c.code: c for c in Carrier.objects.all()}
            for at, actions, scan in self.timeline():
                clock.move_to(at)
                needed = r.IMPORTED if scan else {command for action in actions for command in action.needs}
                for command in r.IMPORTED:
                    if command in needed:
                        self.flush(command, at)
                for action in actions:
                    self.handlers[type(action)](action)
                if scan:
                    monitoring_services.scan(now=at)
                    self.progress(at)

    def timeline(self) -> Iterator[tuple[datetime.datetime, list[r.Action], bool]]:
        """Each instant at which something happens: its actions (in plan order) and whether a scan runs."""
        actions = defaultdict(list)
        for action in self.plan.actions:
            actions[action.at].append(action)
        scans = set(self.plan.scans)
        for at in sorted(set(actions) | scans):
            yield at, actions.get(at, []), at in scans

    def import_reference(self) -> None:
        for command, rows in self.plan.reference.items():
            import_rows(command, rows)
        for year in self.plan.holiday_years:
            try:
                import_holidays(year)
            except ImportRefused as refused:  # chinese-calendar does not know that year yet
                self.warnings.append(str(refused))

    def flush(self, command: str, until: datetime.datetime) -> None:
        """Import the rows of `command` known by `until` that are not imported yet."""
        pending = self.pending[command]
        due = 0
        while due < len(pending) and pending[due].at <= until:
            due += 1
        if due:
            import_rows(command, [row.row for row in pending[:due]])
            del pending[:due]

    # ------------------------------------------------------------------------------------- parcels

    def mark_ready_to_ship(self, action: r.MarkReadyToShip) -> None:
        parcels = Parcel.objects.filter(carrier__code=action.carrier_code, tracking_no__in=action.tracking_numbers)
        result = fulfillment_services.parcels_mark_ready_to_ship(parcels=parcels, at=action.at, by=self.clerk)
        if len(result.marked) != len(action.tracking_numbers):
            raise DemoDrift(
                f"{len(result.marked)} of {len(action.tracking_numbers)} parcels marked ready to ship at {action.at}: "
                f"skipped {result.skipped}"
            )

    def cancel_parcel(self, action: r.CancelParcel) -> None:
        parcel = Parcel.objects.get(order__platform=action.platform, order__order_id=action.order_id)
        fulfillment_services.parcel_cancel(parcel=parcel, by=self.clerk, reason=action.reason)

    # ------------------------------------------------------------------------------------- bags and sheets

    def pack_bag(self, action: r.PackBag) -> None:
        bag = pickup_services.bag_create(shop=self.shops[action.shop_code], sorting_centre=action.sorting_centre, by=self.clerk)
        results = pickup_services.bag_add_parcels(bag=bag, tracking_numbers=action.tracking_numbers, by=self.clerk)
        refused = [f"{result.tracking_no}: {result.message}" for result in results if not result.added]
        if refused:
            raise DemoDrift(f"bag {bag.number} refused {'; '.join(refused[:5])}")
        form = BagMeasureForm(
            {"gross_weight_kg": action.gross_weight_kg, "length_cm": action.length_cm,
             "width_cm": action.width_cm, "height_cm": action.height_cm},
            instance=bag,
        )  # fmt: skip
        if not form.is_valid():
            raise DemoDrift(f"bag {bag.number}: {form.errors.as_text()}")
        self.bags[action.bag] = form.save()

    def seal_bag(self, action: r.SealBag) -> None:
        self.bags[action.bag] = pickup_services.bag_seal(bag=self.bags[action.bag], by=self.clerk)

    def book_sheet(self, action: r.BookSheet) -> None:
        shop = self.shops[action.shop_code]
        sheet = pickup_services.handover_sheet_create(
            shop=shop,
            carrier=self.carriers[action.carrier_code],
            pickup_address=shop.pickup_address,
            pickup_province=shop.pickup_province,
            pickup_city=shop.pickup_city,
            window_start=action.window_start,
            window_end=action.window_end,
            bags=[self.bags[key] for key in action.bags],
            by=self.clerk,
        )
        self.sheets[action.sheet] = pickup_services.handover_sheet_book(sheet=sheet, by=self.clerk)

    def cancel_sheet(self, action: r.CancelSheet) -> None:
        sheet = self.sheets[action.sheet]
        self.sheets[action.sheet] = pickup_services.handover_sheet_cancel(sheet=sheet, by=self.clerk, reason=action.reason)

    def confirm_pickup(self, action: r.ConfirmPickup) -> None:
        self.sheets[action.sheet] = pickup_services.handover_sheet_confirm_pickup(
            sheet=self.sheets[action.sheet], picked_up_at=action.at, agent=action.agent, by=self.clerk
        )

    def report_bag_lost(self, action: r.ReportBagLost) -> None:
        self.bags[action.bag] = pickup_services.bag_report_lost(bag=self.bags[action.bag], by=self.manager, note=action.note)

    # ------------------------------------------------------------------------------------- tickets

    def answer_ticket(self, action: r.AnswerTicket) -> None:
        ticket = StagnationTicket.objects.get(
            parcel__order__platform=action.platform,
            parcel__order__order_id=action.order_id,
            parcel__tracking_no=action.tracking_no,
            opened_at=action.opened_at,
        )
        monitoring_services.ticket_answer(ticket=ticket, by=self.manager, response=action.response)
