"""Letting old months of tracking events go: export a month to a compressed JSON Lines file that
`import_events` reads back, then remove the month (PostgreSQL: detach and drop its partition; SQLite:
delete its rows). Refused while any parcel with events in that month is unfinished or has an open
claim (an unresolved complaint, through `settings.EVENT_ARCHIVE_GUARDS`): their events are still evidence. Parcels keep their milestones and
deadlines; `EventArchive` records what went where, and the parcel page says so.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.db import partitions
from core.errors import TransitionNotAllowed

from .models import FINISHED_STATUSES, EventArchive, Parcel, TrackingEvent

EXPORT_FIELDS = ("carrier_code", "tracking_no", "code", "occurred_at", "location", "description", "outlet_code")


@dataclass(frozen=True)
class ArchiveResult:
    month: partitions.Month
    path: Path
    events: int


def month_range(month: partitions.Month) -> tuple[datetime.datetime, datetime.datetime]:
    low, high = month, partitions.next_month(month)
    return (
        datetime.datetime(low[0], low[1], 1, tzinfo=datetime.UTC),
        datetime.datetime(high[0], high[1], 1, tzinfo=datetime.UTC),
    )


def _events_of(month: partitions.Month):
    low, high = month_range(month)
    return TrackingEvent.objects.filter(occurred_at__gte=low, occurred_at__lt=high)


def archive_problems(month: partitions.Month) -> list[str]:
    parcel_ids = _events_of(month).values("parcel_id")
    problems = []
    unfinished = Parcel.objects.filter(pk__in=parcel_ids).exclude(status__in=FINISHED_STATUSES).count()
    if unfinished:
        problems.append(_("%(count)s parcels with events in this month are still on their way.") % {"count": unfinished})
    for path in getattr(settings, "EVENT_ARCHIVE_GUARDS", ()):  # the apps above: open claims, …
        problems.extend(import_string(path)(parcel_ids=parcel_ids))
    return problems


def _export(month: partitions.Month, target: Path) -> int:
    """The month's events as gzip JSON Lines (`import_events` fields), written beside `target` and renamed."""
    rows = (
        _events_of(month)
        .order_by("parcel_id", "occurred_at", "pk")
        .values_list("parcel__carrier__code", "parcel__tracking_no", "code", "occurred_at", "location", "description",
                     "outlet__code")
    )  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, work = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    count = 0
    try:
        with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
            for row in rows.iterator(chunk_size=5000):
                values = dict(zip(EXPORT_FIELDS, row, strict=True))
                values["occurred_at"] = values["occurred_at"].isoformat()
                values["outlet_code"] = values["outlet_code"] or ""
                out.write(json.dumps(values, ensure_ascii=False).encode() + b"\n")
                count += 1
        os.replace(work, target)
    except BaseException:
        Path(work).unlink(missing_ok=True)
        raise
    return count


def events_archive_month(*, month: partitions.Month, directory: Path, dry_run: bool = False) -> ArchiveResult:
    """Export then remove one month of events; refuses (TransitionNotAllowed) what must stay."""
    label = f"{month[0]:04d}-{month[1]:02d}"
    if EventArchive.objects.filter(month=datetime.date(month[0], month[1], 1)).exists():
        raise TransitionNotAllowed(_("%(month)s is archived already.") % {"month": label})
    problems = archive_problems(month)
    if problems:
        raise TransitionNotAllowed([_("%(month)s cannot be archived:") % {"month": label}, *problems])
    target = Path(directory) / f"events-{label}.jsonl.gz"
    if dry_run:
        return ArchiveResult(month, target, _events_of(month).count())
    table = TrackingEvent._meta.db_table
    with transaction.atomic():
        partitions.ensure_months(table, "occurred_at", [month])  # a month still in DEFAULT gets its own first
        count = _export(month, target)
        if partitions.is_partitioned(table):
            if partitions.month_row_count(table, month) != count:
                raise TransitionNotAllowed(_("Events of %(month)s changed during the export: run it again.") % {"month": label})
            partitions.detach_and_drop(table, month)
        else:
            _events_of(month).delete()
        EventArchive.objects.create(month=datetime.date(month[0], month[1], 1), path=str(target), events=count)
    return ArchiveResult(month, target, count)


def archives_for(parcel) -> list[EventArchive]:
    """The archived months between the parcel's payment and now (its events of those months are in the files)."""
    first = datetime.date(parcel.paid_at.year, parcel.paid_at.month, 1)
    return list(EventArchive.objects.filter(month__gte=first).order_by("month"))
