"""Celery tasks. Beat runs `scan_parcels` every 5 minutes (config/settings CELERY_BEAT_SCHEDULE).

The task is safe to run twice or to be redelivered (acks_late): two scans never run at once
(`scan_exclusive` skips, with a log line, while another holds the lock) and a scan repeated at the
same instant writes nothing.
"""

import logging

from celery import shared_task
from django.utils import timezone

from monitoring.followups import scan_follow_ups
from monitoring.services import scan_exclusive

logger = logging.getLogger(__name__)


@shared_task(name="monitoring.tasks.scan_parcels", acks_late=True, ignore_result=True)
def scan_parcels() -> dict:
    """Scan at the current instant; returns the per-rule counts (for logs and result backends)."""
    report = scan_exclusive(now=timezone.now())
    scan_follow_ups(report=report)
    if not report.skipped:
        logger.info(
            "Parcel scan at %s: raised %d, upgraded %d, resolved %d",
            report.now.isoformat(),
            report.raised,
            report.upgraded,
            report.resolved,
        )
    return {
        "now": report.now.isoformat(),
        "skipped": report.skipped,
        "rules": {kind: vars(outcome) for kind, outcome in report.rules.items()},
    }


@shared_task(name="monitoring.tasks.recompute_deadlines", acks_late=True, ignore_result=True)
def recompute_deadlines(*, unfinished_only: bool = True) -> int:
    """After a policy change in the admin: recompute the deadlines (of the parcels still on their way)."""
    from monitoring.deadlines import recompute_all_deadlines

    count = recompute_all_deadlines(unfinished_only=unfinished_only)
    logger.info("Deadlines recomputed for %d parcels", count)
    return count
