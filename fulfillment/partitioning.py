"""The tracking events' monthly partitions (PostgreSQL): created ahead, and for the months whose
events wait in the DEFAULT partition (late or back-filled). Nothing to do on SQLite."""

from __future__ import annotations

import datetime

from core.db import partitions

from .models import TrackingEvent

AHEAD_MONTHS = 3


def events_table() -> str:
    return TrackingEvent._meta.db_table


def months_in_default() -> list[partitions.Month]:
    return partitions.months_in_default(events_table(), "occurred_at")


def event_partitions_ensure(*, ahead: int = AHEAD_MONTHS, months=(), from_default: bool = True) -> list[partitions.Month]:
    """Partitions for this month and `ahead` more, the given `months`, and (`from_default`) every month
    waiting in DEFAULT; returns the months created."""
    if not partitions.is_partitioned(events_table()):
        return []
    wanted = set(months)
    month = partitions.month_of(datetime.datetime.now(tz=datetime.UTC))
    for _ in range(ahead + 1):
        wanted.add(month)
        month = partitions.next_month(month)
    if from_default:
        wanted.update(months_in_default())
    return partitions.ensure_months(events_table(), "occurred_at", wanted)
