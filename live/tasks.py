"""Celery tasks of the pushes. Without a broker they run eagerly, in the request that stored the push."""

from celery import shared_task

from .models import PushDelivery
from .services import push_deliveries_retry, push_delivery_process


@shared_task(name="live.tasks.process_push_delivery", acks_late=True, ignore_result=True)
def process_push_delivery(delivery_id: int) -> None:
    """Safe to run twice: a processed delivery is left as it is (the row is locked while processed)."""
    delivery = PushDelivery.objects.filter(pk=delivery_id).first()
    if delivery is not None:
        push_delivery_process(delivery=delivery)


@shared_task(name="live.tasks.process_pushes", acks_late=True, ignore_result=True)
def process_pushes() -> dict:
    """The deliveries a failure left unprocessed (for a beat schedule, like `scan_parcels`)."""
    import datetime

    processed, failed = push_deliveries_retry(older_than=datetime.timedelta(minutes=1))
    return {"processed": processed, "failed": failed}
