"""`import_coverage` (province,city) and `import_pickup_confirmations` (sheet_number,picked_up_at,agent),
built on the fulfillment import framework (encoding and format detection, error report, batches)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment.access import limit_to_shops
from fulfillment.importing import Importer, RowError, optional, parse_time, require, upsert_by_natural_key

from . import services
from .models import HandoverSheet, PickupCoverage, SheetStatus


@dataclass(slots=True)
class CoverageRecord:
    line: int
    province: str
    city: str


class CoverageImporter(Importer):
    """`province,city`; `city` empty = the whole province is covered by official pickup."""

    permission = "pickups.change_pickupcoverage"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_coverage"
    required_columns = ("province", "city")
    batch_size = 2000

    def clean_row(self, row, line):
        return CoverageRecord(
            line=line,
            province=require(row, "province", max_length=64),
            city=optional(row, "city", max_length=64),
        )

    def apply_batch(self, records):
        return upsert_by_natural_key(
            model=PickupCoverage, key_fields=("province", "city"), value_fields=(), records=records
        ).counts


@dataclass(slots=True)
class ConfirmationRecord:
    line: int
    sheet_number: str
    picked_up_at: datetime.datetime
    agent: str


class PickupConfirmationImporter(Importer):
    """The pickup agents' confirmations: each row records the pickup of one booked sheet.

    A row for a sheet already recorded with the same time is unchanged (re-running a file is a
    no-op); a row for an unknown, draft or cancelled sheet, or one contradicting a recorded pickup,
    is rejected with the reason. Each confirmation runs through
    `services.handover_sheet_confirm_pickup`, under the sheet's row lock.
    """

    permission = "pickups.confirm_pickup_handoversheet"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_pickup_confirmations"
    required_columns = ("sheet_number", "picked_up_at", "agent")
    batch_size = 500

    def clean_row(self, row, line):
        picked_up_at = parse_time(row.get("picked_up_at", ""), "picked_up_at")
        if picked_up_at > timezone.now() + services.PICKUP_CLOCK_TOLERANCE:
            raise RowError("picked_up_at", _("is in the future"))
        return ConfirmationRecord(
            line=line,
            sheet_number=require(row, "sheet_number", max_length=32),
            picked_up_at=picked_up_at,
            agent=require(row, "agent", max_length=200),
        )

    def apply_batch(self, records):
        sheets = limit_to_shops(HandoverSheet.objects.all(), self.by).in_bulk([r.sheet_number for r in records], field_name="number")
        confirmed = unchanged = 0
        for record in sorted(records, key=lambda r: r.line):
            sheet = sheets.get(record.sheet_number)
            if sheet is None:
                self.reject(
                    record.line, "sheet_number", _("unknown handover sheet “%(n)s”") % {"n": record.sheet_number}
                )
                continue
            if sheet.status == SheetStatus.PICKED_UP:
                if sheet.picked_up_at == record.picked_up_at:
                    unchanged += 1
                else:
                    when = timezone.localtime(sheet.picked_up_at).strftime("%Y-%m-%d %H:%M")
                    self.reject(
                        record.line,
                        "picked_up_at",
                        _("sheet %(n)s was already recorded as picked up at %(when)s by %(agent)s")
                        % {"n": sheet.number, "when": when, "agent": sheet.pickup_agent or "—"},
                    )
                continue
            try:
                sheets[record.sheet_number] = services.handover_sheet_confirm_pickup(
                    sheet=sheet, picked_up_at=record.picked_up_at, agent=record.agent, by=self.by
                )
            except ValidationError as error:
                self.reject(record.line, "sheet_number", " ".join(error.messages))
                continue
            confirmed += 1
        return 0, confirmed, unchanged
