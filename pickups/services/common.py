"""What the bag and sheet services share: who acted, the audit row, numbering."""

from __future__ import annotations

import datetime

from django.utils import timezone

from ..models import SYSTEM_REASONS, Transition

TRANSITION_REPORTED_LOST = "reported_lost"  # a Transition.to_status that is not a bag status
PICKUP_CLOCK_TOLERANCE = datetime.timedelta(minutes=10)  # a scanner's clock may run a little ahead


def _user(by):
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def system_reason(code: str, **params) -> dict:
    """A transition's reason written by the system: its code and figures (read in the reader's
    language, `Transition.reason_label`), and the English text for anyone reading the table."""
    return {"reason_code": code, "reason_params": params, "reason": SYSTEM_REASONS[code] % params}


def _record(*, bag=None, sheet=None, from_status: str, to_status: str, by, reason: str = "", **system) -> Transition:
    """`reason`: a clerk's words; `system`: a `system_reason(…)` instead."""
    return Transition.objects.create(
        bag=bag, sheet=sheet, from_status=from_status, to_status=to_status, by=_user(by), reason=str(reason), **system
    )


def _generate_number(prefix: str, pk: int) -> str:
    return f"{prefix}{timezone.localdate():%y%m%d}{pk:06d}"
