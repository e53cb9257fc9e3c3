"""Celery tasks of the shared schema: the events' monthly partitions, created ahead (beat, daily)."""

from celery import shared_task

from .partitioning import event_partitions_ensure


@shared_task(name="fulfillment.tasks.event_partitions", acks_late=True, ignore_result=True)
def event_partitions() -> list[str]:
    return [f"{year:04d}-{month:02d}" for year, month in event_partitions_ensure()]
