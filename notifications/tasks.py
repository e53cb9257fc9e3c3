"""Celery tasks of the notifications: after each scan, collect and send; every minute, retry what is due
(digests and the lists sent to courier outlets).

Each task is acknowledged after it ran (acks_late, reject_on_worker_lost): a worker killed mid-send
leaves the message to another worker, and the digest's claim (`claimed_until`) keeps two workers
from sending it at once.
"""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .outlets import due_outlet_dispatch_ids, outlet_dispatch_send
from .services import digest_send, digests_collect, due_digest_ids


@shared_task(name="notifications.tasks.send_digest", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_digest(digest_id: int) -> str:
    return digest_send(digest_id=digest_id)


@shared_task(name="notifications.tasks.send_due_digests", acks_late=True, ignore_result=True)
def send_due_digests() -> int:
    ids = due_digest_ids(now=timezone.now())
    for digest_id in ids:
        send_digest.delay(digest_id)
    return len(ids)


def notify_after_scan(*, now) -> int:
    """The scan's follow-up (settings.SCAN_FOLLOW_UPS): a digest per channel with news, sent after commit."""
    digests = digests_collect(now=now)
    for digest in digests:
        transaction.on_commit(lambda pk=digest.pk: send_digest.delay(pk))
    return len(digests)


@shared_task(
    name="notifications.tasks.send_outlet_dispatch", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def send_outlet_dispatch(dispatch_id: int) -> str:
    return outlet_dispatch_send(dispatch_id=dispatch_id)


@shared_task(name="notifications.tasks.send_due_outlet_dispatches", acks_late=True, ignore_result=True)
def send_due_outlet_dispatches() -> int:
    ids = due_outlet_dispatch_ids(now=timezone.now())
    for dispatch_id in ids:
        send_outlet_dispatch.delay(dispatch_id)
    return len(ids)
