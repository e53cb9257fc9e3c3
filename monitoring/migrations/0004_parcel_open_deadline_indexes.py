"""Partial indexes on the parcel deadlines the scan reads, over unfinished parcels only.

Historical: fulfillment 0012 drops the indexes this migration used to create and creates them in the
Parcel model's state; a new database gets them from there only.

They live on `fulfillment_parcel` but only the monitoring scan needs them, so this app creates them
(RunSQL, the same statement on SQLite and PostgreSQL). Delivered, cancelled, returned and lost
parcels are most of the table and never raise these alerts: a scan reads the running clocks only,
whatever the size of the history. The predicate is written as Django writes the scan's
`exclude(status__in=FINISHED_STATUSES)`, so that PostgreSQL proves the index usable.
"""

from django.db import migrations

FINISHED = "('cancelled', 'delivered', 'returned', 'lost')"
COLUMNS = ("stagnation_warn_at", "update_warn_at", "ship_due_at")


def name(column: str) -> str:
    return f"parcel_open_{column.removesuffix('_at')}_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0003_groups"),
        ("fulfillment", "0001_initial"),
    ]
    # Now fulfillment 0012 (the indexes are the Parcel model's, with the scan's own predicate).
    operations = []
