"""Formerly gave `Warehouse` the permission to mark parcels ready to ship; that is part of
`backoffice.roles` now (granted by backoffice 0001_roles). Kept, empty, for databases where it ran."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_parcel_open_deadline_indexes"),
        ("fulfillment", "0008_parcel_mark_ready_permission"),
    ]
    operations = []
