"""The roles again, now that every model they name exists: Managers may send an outlet its parcels
(`notifications.send_outletdispatch`) and read what was sent. Only adds, like 0001."""
import importlib

from django.db import migrations

roles_0001 = importlib.import_module("backoffice.migrations.0001_roles")


def apply_roles(apps, schema_editor):
    roles_0001.apply_roles(apps, schema_editor, skip_missing=False)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_roles"),
        ("notifications", "0002_outletdispatch"),
    ]
    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
