"""Claim evidence of a lost bag: every parcel in it with its order, weight and declared value (CSV, XLSX)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from core.exports import csv_row, xlsx_row

from .models import ConsolidationBag, HandoverSheet, SheetStatus
from .selectors import bag_parcels


def claim_evidence_header() -> list[str]:
    return [
        _("bag number"),
        _("order id"),
        _("tracking number"),
        _("carrier"),
        _("weight (kg)"),
        _("declared value"),
        _("order amount"),
        _("paid at"),
        _("bag picked up at"),
        _("bag reported lost at"),
        _("handover sheet"),
        _("pickup agent"),
        _("bag sealed weight (kg)"),
        _("bag sealed at"),
    ]


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def claim_evidence_rows(bag: ConsolidationBag) -> Iterator[list]:
    """Every parcel of the bag with the proof of handover: the sheet the agent signed, who, when, and
    the bag as it was sealed."""
    sheet = (
        HandoverSheet.objects.filter(items__bag=bag, status=SheetStatus.PICKED_UP).only("number", "pickup_agent").first()
    )
    proof = [sheet.number if sheet else "", sheet.pickup_agent if sheet else "", bag.gross_weight_kg, _local(bag.sealed_at)]
    for parcel in bag_parcels(bag=bag).iterator(chunk_size=500):
        yield [
            bag.number,
            parcel.order.order_id,
            parcel.tracking_no or "",
            parcel.carrier.code if parcel.carrier else "",
            parcel.weight_kg,
            parcel.declared_value,
            parcel.order.amount,
            _local(parcel.paid_at),
            _local(bag.picked_up_at),
            _local(bag.reported_lost_at),
            *proof,
        ]


def claim_evidence_csv(bag: ConsolidationBag) -> bytes:
    """UTF-8 with a BOM so that spreadsheet tools open the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(claim_evidence_header())
    for row in claim_evidence_rows(bag):
        writer.writerow(csv_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def claim_evidence_xlsx(bag: ConsolidationBag) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=bag.number[:31])
    sheet.append(claim_evidence_header())
    for row in claim_evidence_rows(bag):
        # Weights and values stay numbers (openpyxl writes Decimal as a number) so a claim form can sum them.
        sheet.append(xlsx_row(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
