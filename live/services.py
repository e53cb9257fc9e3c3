"""Every write of a tracking push: store it (`push_delivery_receive`), apply it
(`push_delivery_process`), hand it to a worker (`push_delivery_enqueue`) and process what a failure
left behind (`push_deliveries_retry`).

Processing runs the entries through `fulfillment.importers.EventImporter`, the importer behind
`import_events`: the same row checks, the same parcel lookup, the same duplicate rule (an event is
its parcel, code, time and location: a repeated push stores nothing twice) and the same parcel
update (`parcels_fold_new_events`). A failure rolls the whole delivery back and leaves
`processed_at` empty, so it is processed again from the stored body.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import TransitionNotAllowed
from fulfillment.importers import EventImporter
from fulfillment.importing import RowError
from fulfillment.models import Carrier

from .formats import BodyUnreadable, Entry, Vocabulary, push_entries
from .forms_body import body_text
from .models import PushDelivery, PushSource
from .signatures import signature_valid

logger = logging.getLogger(__name__)
MAX_ERRORS_KEPT = 200  # per delivery; the counts say how many there were


def push_delivery_receive(*, source: PushSource, body: bytes, headers: Mapping[str, str]) -> PushDelivery:
    """Store the raw body first, then record whether its signature holds (it is stored either way)."""
    delivery = PushDelivery.objects.create(source=source, body=body_text(body))
    verified = signature_valid(kind=source.kind, secret=source.secret, body=body, headers=headers)
    if verified:
        PushDelivery.objects.filter(pk=delivery.pk).update(verified=True)
        delivery.verified = True
    return delivery


def push_delivery_enqueue(*, delivery: PushDelivery) -> None:
    """Process in a worker when there is a broker, here and now when there is none (eager Celery).
    A failure is logged, never raised: the delivery is stored and `process_pushes` picks it up."""
    from .tasks import process_push_delivery

    try:
        process_push_delivery.delay(delivery.pk)
    except Exception:
        logger.exception("Push delivery %s not processed; process_pushes will retry it", delivery.pk)


def push_delivery_process(*, delivery: PushDelivery) -> PushDelivery:
    """Apply a verified delivery's entries once; returns the delivery with its outcome."""
    try:
        with transaction.atomic():
            locked = PushDelivery.objects.select_for_update(of=("self",)).select_related("source").get(pk=delivery.pk)
            if locked.processed_at is not None:
                return locked
            if not locked.verified:
                raise TransitionNotAllowed(_("A delivery whose signature did not verify is never processed."))
            locked.outcome = _outcome(locked)
            locked.processed_at = timezone.now()
            locked.save(update_fields=["outcome", "processed_at"])
            return locked
    except TransitionNotAllowed:
        raise
    except Exception as error:
        _record_failure(delivery.pk, error)
        raise


def _record_failure(pk: int, error: Exception) -> None:
    previous = PushDelivery.objects.filter(pk=pk).values_list("outcome", flat=True).first() or {}
    PushDelivery.objects.filter(pk=pk, processed_at__isnull=True).update(
        outcome={"failure": f"{type(error).__name__}: {error}"[:1000], "attempts": previous.get("attempts", 0) + 1}
    )


def _outcome(delivery: PushDelivery) -> dict:
    kind = delivery.source.kind
    try:
        entries = push_entries(kind=kind, body=delivery.body, vocabulary=Vocabulary.of(kind))
    except BodyUnreadable as error:
        return _counts(entries=0, inserted=0, unchanged=0, errors=[_error(None, "", "body", error.message)])
    return _entries_apply(entries)


def _error(entry: int | None, ref: str, field: str, message: str) -> dict:
    return {"entry": entry, "ref": ref, "field": field, "message": str(message)}


def _counts(*, entries: int, inserted: int, unchanged: int, errors: list[dict]) -> dict:
    return {
        "entries": entries,
        "inserted": inserted,
        "unchanged": unchanged,
        "rejected": len(errors),
        "errors": sorted(errors, key=lambda e: (e["entry"] is not None, e["entry"] or 0))[:MAX_ERRORS_KEPT],
    }


def _entries_apply(entries: list[Entry]) -> dict:
    """The entries through the event importer: clean each row, then one batch."""
    importer = EventImporter()
    known_carriers = set(
        Carrier.objects.filter(
            code__in={row["carrier_code"] for _ref, row in entries if isinstance(row, dict)}
        ).values_list("code", flat=True)
    )
    errors, records = [], []
    for index, (ref, row) in enumerate(entries):
        try:
            if isinstance(row, RowError):
                raise row
            if row["carrier_code"] and row["carrier_code"] not in known_carriers:
                raise RowError("carrier_code", _("unknown carrier: %(code)s") % {"code": row["carrier_code"][:32]})
            records.append(importer.clean_row(row, index))
        except RowError as error:
            errors.append(_error(index, ref, error.field, error.message))
        except (ValueError, TypeError, ArithmeticError) as error:  # as the import runner: no entry ends in a 500
            errors.append(_error(index, ref, "", _("the entry cannot be read (%(error)s)") % {"error": str(error)[:200]}))
    inserted = unchanged = 0
    if records:
        importer.begin()
        inserted, _updated, unchanged = importer.apply_batch(importer.prepare_batch(records))
    refs = [ref for ref, _row in entries]
    errors += [_error(line, refs[line], field, message) for line, field, message in importer.take_rejects()]
    return _counts(entries=len(entries), inserted=inserted, unchanged=unchanged, errors=errors)


def push_deliveries_retry(*, older_than: datetime.timedelta = datetime.timedelta(0), limit: int = 1000) -> tuple[int, int]:
    """Process the verified deliveries still unprocessed (received at least `older_than` ago, so
    that one a worker is processing right now is left to it); returns (processed, failed)."""
    cutoff = timezone.now() - older_than
    pending = PushDelivery.objects.filter(verified=True, processed_at__isnull=True, received_at__lte=cutoff)
    processed = failed = 0
    for delivery in pending.order_by("received_at", "pk")[:limit]:
        try:
            push_delivery_process(delivery=delivery)
            processed += 1
        except Exception:
            logger.exception("Push delivery %s failed again", delivery.pk)
            failed += 1
    return processed, failed
