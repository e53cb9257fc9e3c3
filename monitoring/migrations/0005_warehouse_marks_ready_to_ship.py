"""Warehouse clerks mark parcels ready to ship (DESIGN.md, mission 1)."""
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("fulfillment")
    app_config.models_module = True  # the migration state's app stub: let create_permissions see its models
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="fulfillment", codename="mark_ready_to_ship_parcel")
    Group.objects.get(name="Warehouse").permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Warehouse"):
        group.permissions.remove(*group.permissions.filter(codename="mark_ready_to_ship_parcel"))


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_parcel_open_deadline_indexes"),
        ("fulfillment", "0008_parcel_mark_ready_permission"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
