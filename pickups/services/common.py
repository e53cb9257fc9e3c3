"""What the bag and sheet services share: who acted, the audit row, numbering."""

from __future__ import annotations

import datetime

from django.utils import timezone

from ..models import (
    Transition,
)

TRANSITION_REPORTED_LOST = "reported_lost"  # a Transition.to_status that is not a bag status
PICKUP_CLOCK_TOLERANCE = datetime.timedelta(minutes=10)  # a scanner's clock may run a little ahead


def _user(by):
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def _record(*, bag=None, sheet=None, from_status: str, to_status: str, by, reason: str = "") -> Transition:
    return Transition.objects.create(
        bag=bag, sheet=sheet, from_status=from_status, to_status=to_status, by=_user(by), reason=str(reason)
    )


def _generate_number(prefix: str, pk: int) -> str:
    return f"{prefix}{timezone.localdate():%y%m%d}{pk:06d}"
