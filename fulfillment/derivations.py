"""The parcel derivation pipeline: drafts → change → steps → one write → announce after commit.

Every write of a parcel's state goes through `parcels_derive`. It copies the parcels into drafts
(`ParcelDraft`, a temporary table of the connection, the rows locked in id order), applies the
caller's change to the drafts (fold events, advance the status, set the pickup time …), then runs
each derivation step named in `settings.PARCEL_DERIVATION_STEPS`, in that order, on the drafts —
pickups back-dates bagged pickups, monitoring computes the deadlines — and writes each parcel whose
draft differs once, with one UPDATE. The ids written are announced with
`fulfillment.signals.parcels_changed` after the transaction commits.

The steps are configuration, not app order: fulfillment loads them by dotted path and imports
nothing of the apps above it. A step is a callable taking the drafts' queryset.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone
from django.utils.module_loading import import_string

from core.db import dialect
from fulfillment.models import Parcel, ParcelDraft
from fulfillment.signals import parcels_changed

DraftChange = Callable[[QuerySet], object]

_DRAFT_COLUMNS = ", ".join(field.column for field in ParcelDraft._meta.concrete_fields)


@functools.cache
def steps() -> tuple[Callable[[QuerySet], object], ...]:
    """The derivation steps, loaded from `settings.PARCEL_DERIVATION_STEPS` (dotted paths), in order."""
    return tuple(import_string(path) for path in getattr(settings, "PARCEL_DERIVATION_STEPS", ()))


@receiver(setting_changed)
def _reload_steps(*, setting, **kwargs):
    if setting == "PARCEL_DERIVATION_STEPS":
        steps.cache_clear()


# Guards the connection's one draft table against a derivation started inside another (per thread,
# as connections are).
_drafts = threading.local()


def _open(cursor, *, parcels_sql: str, params) -> None:
    """Empty the draft table (created on first use) and copy the parcels of `parcels_sql` (trusted SQL
    for an `IN (…)`) into it, locked until commit: a parcel changed by another transaction meanwhile
    would otherwise be overwritten with the values read here."""
    dialect.create_temporary_table(cursor, ParcelDraft)
    drafts = dialect.table(ParcelDraft)
    # Not TRUNCATE: cheap for a small table inside a dry run's savepoints.
    cursor.execute(f"DELETE FROM {drafts}")  # noqa: S608 — a table name from _meta
    cursor.execute(
        f"INSERT INTO {drafts} ({_DRAFT_COLUMNS}) "  # noqa: S608 — names from _meta and a trusted select
        f"SELECT {_DRAFT_COLUMNS} FROM {dialect.table(Parcel)} WHERE id IN ({parcels_sql}){dialect.lock_rows_suffix()}",
        params,
    )
    dialect.analyze(cursor, ParcelDraft)  # the planner's row count for the steps' joins


def _write(cursor) -> list[int]:
    """One UPDATE of every parcel whose draft differs from it; returns their ids."""
    distinct = dialect.distinct_from()
    sets = ", ".join(f"{column} = d.{column}" for column in ParcelDraft.WRITABLE)
    differs = " OR ".join(f"p.{column}{distinct}d.{column}" for column in ParcelDraft.WRITABLE)
    sql, returning = dialect.update_from_returning(
        target=Parcel,
        source=ParcelDraft,
        sets=f"{sets}, updated_at = %s",
        where=f"p.id = d.id AND ({differs})",
        restrict_to_source=True,
    )
    cursor.execute(f"{sql} RETURNING {returning}", [timezone.now()])
    return sorted(row[0] for row in cursor.fetchall())


def _announce(parcel_ids: list[int], reason: str) -> None:
    if not parcel_ids:
        return

    def send():
        for chunk in dialect.id_chunks(parcel_ids):
            parcels_changed.send(sender=Parcel, parcel_ids=chunk, reason=reason)

    transaction.on_commit(send)


def derive_drafted(*, parcels_sql: str, params, change: DraftChange | None, reason: str) -> tuple[object, list[int]]:
    """The pipeline over the parcels selected by `parcels_sql` (trusted SQL for an `IN (…)`).

    Returns (what `change` returned, the ids of the parcels written). Call inside a transaction.
    """
    if getattr(_drafts, "active", False):
        raise RuntimeError("a parcel derivation cannot start inside another one (one draft table per connection)")
    _drafts.active = True
    try:
        with connection.cursor() as cursor:
            _open(cursor, parcels_sql=parcels_sql, params=params)
        drafts = ParcelDraft.objects.all()
        changed = change(drafts) if change is not None else None
        for step in steps():
            step(ParcelDraft.objects.all())
        with connection.cursor() as cursor:
            written = _write(cursor)
    finally:
        _drafts.active = False
    _announce(written, reason)
    return changed, written


@transaction.atomic
def parcels_derive(*, parcel_ids: Iterable[int], reason: str, change: DraftChange | None = None) -> list[int]:
    """Run the pipeline over the parcels `parcel_ids` (in chunks), applying `change` to each chunk's
    drafts first; returns the ids of the parcels written (those whose values changed)."""
    written: list[int] = []
    for chunk in dialect.id_chunks(parcel_ids):
        parcels_sql, params = dialect.id_list(chunk)
        _changed, ids = derive_drafted(parcels_sql=parcels_sql, params=params, change=change, reason=reason)
        written.extend(ids)
    return written
