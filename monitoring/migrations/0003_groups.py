"""Formerly created the `Warehouse` and `Managers` groups; the roles now live in `backoffice.roles` and
are granted by backoffice 0001_roles. Kept, empty, so that databases where it ran stay consistent."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_seed_sla_policies"),
        ("pickups", "0001_initial"),
        ("fulfillment", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = []
