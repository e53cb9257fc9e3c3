"""Sending a courier outlet its own stalled and overdue parcels (DESIGN.md, "Outlet contacts").

Cainiao's package monitoring cannot contact an outlet, so a manager copied lists by hand. From the
scorecard a manager previews the outlet's rows of the stalled list (`outlet_stalled_rows`: the same
selector, narrowed to the outlet and to the manager's shops) and confirms; `outlet_dispatch_create`
freezes what is sent (parcel ids, lines, CSV, the outlet's robot or email) under the form's
idempotency token — two clicks, one dispatch — and `outlet_dispatch_send` sends it exactly as a
digest is sent: claimed before sending, marked sent once, retried with backoff, given up after
`MAX_ATTEMPTS`.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.admin import in_shop_time
from fulfillment.access import shop_ids_for
from fulfillment.models import CarrierOutlet
from monitoring import selectors
from monitoring.models import Alert, AlertKind, AlertLevel
from monitoring.stalled_export import Labels, export_row

from .models import ChannelKind, OutletDispatch
from .services import claim_for_sending, due_ids, record_failure, record_sent, retry_now
from .transports import SENDERS, Message, TransportError

logger = logging.getLogger(__name__)

MAX_PARCELS = 2000  # one message: beyond, the outlet is sent the first ones (soonest due first)
LINES_SHOWN = 50


def outlet_stalled_rows(*, outlet: CarrierOutlet, shop_ids) -> QuerySet[Alert]:
    """The stalled list's rows (one per parcel, its leading alert, soonest due first) of the parcels
    of `outlet`, of the shops `shop_ids` only (None: every shop)."""
    _filterset, rows = selectors.stalled_parcels(data=QueryDict(), shop_ids=shop_ids)
    return rows.filter(parcel__outlet=outlet)


def outlet_channel(outlet: CarrierOutlet) -> tuple[str, str, str] | None:
    """(kind, target, secret) of the outlet's channel: its robot first, else its email addresses."""
    if outlet.robot_kind and outlet.robot_url:
        return outlet.robot_kind, outlet.robot_url, outlet.robot_secret
    if outlet.contact_email.strip():
        return ChannelKind.EMAIL, outlet.contact_email.strip(), ""
    return None


def _frozen_line(alert: Alert) -> dict:
    parcel = alert.parcel
    return {
        "parcel": parcel.pk,
        "tracking_no": parcel.tracking_no,
        "carrier": parcel.carrier.code if parcel.carrier else "",
        "shop": str(parcel.shop),
        "kind": alert.kind,
        "level": alert.level,
        "due": in_shop_time(alert.due_at, parcel.shop) or "",
        "due_at": alert.due_at.isoformat() if alert.due_at else None,
    }


def outlet_csv(rows: QuerySet[Alert]) -> str:
    """The stalled list's CSV (the same columns and labels, in the current language) of these rows."""
    tz = selectors.shop_timezone()
    labels = Labels()
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(labels.header)
    for values, alerts in selectors.stalled_parcels_export(queryset=rows):
        writer.writerow(export_row(values, alerts, labels, tz))
    return out.getvalue()


def outlet_dispatch_create(*, outlet: CarrierOutlet, by, token: uuid.UUID) -> tuple[OutletDispatch, bool]:
    """The dispatch of `token` (made now, or by the first click), and whether it was made now.

    What is sent is the outlet's rows of the stalled list among the shops `by` may see, frozen now in
    the current language. Refused (ValidationError) when the outlet has no robot or email, or nothing
    of it is stalled."""
    existing = OutletDispatch.objects.filter(token=token).first()
    if existing is not None:
        return existing, False
    channel = outlet_channel(outlet)
    if channel is None:
        raise ValidationError(_("Outlet %(outlet)s has no IM robot or email to send to.") % {"outlet": outlet})
    outlet_rows = outlet_stalled_rows(outlet=outlet, shop_ids=shop_ids_for(by))
    rows = list(outlet_rows[:MAX_PARCELS])
    if not rows:
        raise ValidationError(_("Outlet %(outlet)s has no stalled or overdue parcel to send.") % {"outlet": outlet})
    parcel_ids = [row.parcel_id for row in rows]
    chosen = outlet_rows.filter(parcel_id__in=parcel_ids)
    kind, target, secret = channel
    try:
        with transaction.atomic():
            dispatch = OutletDispatch.objects.create(
                outlet=outlet, by=by, token=token, kind=kind, target=target, secret=secret,
                language=translation.get_language() or "zh-hans", parcel_count=len(rows), parcel_ids=parcel_ids,
                lines=[_frozen_line(row) for row in rows], csv=outlet_csv(chosen), next_attempt_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError:  # the other click made it in the meantime
        return OutletDispatch.objects.get(token=token), False
    return dispatch, True


def _text_line(line: dict) -> str:
    return _("%(level)s · %(kind)s · %(carrier)s %(tracking)s · %(shop)s · due %(due)s") % {
        "level": AlertLevel(line["level"]).label,
        "kind": AlertKind(line["kind"]).label if line["kind"] in AlertKind.values else line["kind"],
        "carrier": line["carrier"],
        "tracking": line["tracking_no"] or "—",
        "shop": line["shop"],
        "due": line["due"] or "—",
    }


def outlet_dispatch_message(dispatch: OutletDispatch) -> Message:
    """The list in the dispatch's language: a title, a line per parcel (the first `LINES_SHOWN`), the
    CSV attached to an email, and the machine-readable list (with the CSV) for webhooks."""
    outlet = dispatch.outlet
    with translation.override(dispatch.language):
        title = ngettext(
            "Parcel Control: %(count)d stalled or overdue parcel of outlet %(outlet)s",
            "Parcel Control: %(count)d stalled or overdue parcels of outlet %(outlet)s",
            dispatch.parcel_count,
        ) % {"count": dispatch.parcel_count, "outlet": outlet}
        lines = [_text_line(line) for line in dispatch.lines[:LINES_SHOWN]]
        if len(dispatch.lines) > LINES_SHOWN:
            lines.append(_("… and %(count)d more in the attached list.") % {"count": len(dispatch.lines) - LINES_SHOWN})
        if dispatch.by is not None:
            lines.append(_("Sent by %(name)s.") % {"name": dispatch.by.get_full_name() or dispatch.by.get_username()})
    data = {
        "dispatch": dispatch.pk,
        "outlet": {"carrier": outlet.carrier.code, "code": outlet.code, "name": outlet.name},
        "parcels": [{k: v for k, v in line.items() if k != "due"} for line in dispatch.lines],
        "csv": dispatch.csv,
    }
    stamp = timezone.localtime(dispatch.created_at).strftime("%Y%m%d-%H%M")
    attachment = (f"outlet-{outlet.code}-parcels-{stamp}.csv", dispatch.csv, "text/csv")
    return Message(key=f"outlet-dispatch-{dispatch.pk}", title=title, lines=lines, data=data, attachments=(attachment,))


def outlet_dispatch_send(*, dispatch_id: int, now: datetime.datetime | None = None) -> str:
    """Send one dispatch unless it is sent, given up, or held by another worker: "sent", "failed"
    (retried later), "gave up" or "skipped"."""
    now = now or timezone.now()
    if not claim_for_sending(OutletDispatch, dispatch_id, now):
        return "skipped"
    dispatch = OutletDispatch.objects.select_related("outlet__carrier", "by").get(pk=dispatch_id)
    try:
        SENDERS[dispatch.kind](dispatch, outlet_dispatch_message(dispatch))
    except TransportError as error:
        attempts = dispatch.attempts + 1
        gave_up = record_failure(OutletDispatch, dispatch_id, attempts=attempts, error=error, now=now)
        logger.warning("Outlet dispatch %s to %s failed (attempt %d): %s", dispatch_id, dispatch.outlet, attempts, error)
        return "gave up" if gave_up else "failed"
    record_sent(OutletDispatch, dispatch_id, attempts=dispatch.attempts + 1)
    return "sent"


def due_outlet_dispatch_ids(*, now: datetime.datetime) -> list[int]:
    return due_ids(OutletDispatch, now=now)


def outlet_dispatch_retry_now(*, dispatch: OutletDispatch) -> None:
    retry_now(OutletDispatch, dispatch.pk)
