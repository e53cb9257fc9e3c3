"""The CSV of the stalled and overdue list: the list's rows (one per parcel), codes with their labels.

Codes stay for scripts and spreadsheets that match on them; next to each code its label in the
user's language, as the page shows it. Labels are taken when the response is made (the body is
streamed after the view has returned, when the request's language may no longer be active).
"""

from __future__ import annotations

import csv
import datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exports import csv_cell
from fulfillment.models import ParcelStatus, Platform
from monitoring import selectors
from monitoring.models import Alert, AlertKind, AlertLevel

CSV_HEADER = (
    _("tracking number"), _("carrier"), _("shop"), _("platform"), _("platform (label)"), _("courier outlet"),
    _("courier outlet name"), _("kind"), _("kind (label)"), _("level"), _("level (label)"), _("other open alerts"),
    _("other open alerts (labels)"), _("raised at"), _("due at"), _("paid at"), _("picked up at"),
    _("last valid node at"), _("status"), _("status (label)"), _("order id"), _("destination"),
    _("compensation estimate"),
)


class _Echo:
    def write(self, value):
        return value


class Labels:
    """The labels of the codes in the current language, as plain strings."""

    def __init__(self):
        self.kind = {k: str(label) for k, label in AlertKind.choices}
        self.level = {k: str(label) for k, label in AlertLevel.choices}
        self.platform = {k: str(label) for k, label in Platform.choices}
        self.status = {k: str(label) for k, label in ParcelStatus.choices}
        self.header = [str(h) for h in CSV_HEADER]

    def alerts(self, alerts: list[Alert]) -> tuple[str, str]:
        codes = "; ".join(f"{a.kind}:{a.level}" for a in alerts)
        labels = "; ".join(f"{self.kind.get(a.kind, a.kind)} ({self.level.get(a.level, a.level)})" for a in alerts)
        return codes, labels


def export_row(values: dict, alerts: list[Alert], labels: Labels, tz) -> list:
    def when(value):
        return timezone.localtime(value, tz).isoformat(timespec="seconds") if isinstance(value, datetime.datetime) else value

    others = [a for a in alerts if not (a.kind == values["kind"] and a.level == values["level"])]
    other_codes, other_labels = labels.alerts(others)
    row = [
        values["parcel__tracking_no"], values["parcel__carrier__code"], values["parcel__shop__code"],
        values["parcel__platform"], labels.platform.get(values["parcel__platform"], ""), values["parcel__outlet__code"],
        values["parcel__outlet__name"], values["kind"], labels.kind.get(values["kind"], ""), values["level"],
        labels.level.get(values["level"], ""), other_codes, other_labels, when(values["raised_at"]),
        when(values["due_at"]), when(values["parcel__paid_at"]), when(values["parcel__picked_up_at"]),
        when(values["parcel__last_event_at"]), values["parcel__status"], labels.status.get(values["parcel__status"], ""),
        values["parcel__order__order_id"],
        selectors.destination(values["parcel__order__dest_province"], values["parcel__order__dest_city"]),
        values["compensation_estimate"],
    ]
    return [csv_cell(value) for value in row]


def stalled_csv(queryset: QuerySet[Alert]) -> StreamingHttpResponse:
    """Exactly the list's rows, streamed; times in the shop's time zone (ISO 8601 with offset)."""
    tz = selectors.shop_timezone()
    writer = csv.writer(_Echo())
    labels = Labels()

    def rows():
        yield "\ufeff"  # BOM: spreadsheet tools then read the Chinese text as UTF-8
        yield writer.writerow(labels.header)
        for values, alerts in selectors.stalled_parcels_export(queryset=queryset):
            yield writer.writerow(export_row(values, alerts, labels, tz))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="stalled-parcels-{stamp}.csv"'
    return response
