"""Managers may send an outlet its parcels (`notifications.send_outletdispatch`) and read what was
sent (`ADDED_ROLES`). Only adds, like 0001."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

from backoffice.roles import ADDED_ROLES, grant_roles

ROLES = ADDED_ROLES["0002_outlet_sends"]


def apply_roles(apps, schema_editor):
    app_config = apps.get_app_config("notifications")
    app_config.models_module = True  # see 0001: let create_permissions see the migration state's models
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    grant_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


def remove_roles(apps, schema_editor):
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    codenames = [perm.split(".", 1)[1] for perms in ROLES.values() for perm in perms]
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="notifications", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_roles"),
        ("notifications", "0002_outletdispatch"),
    ]
    operations = [migrations.RunPython(apply_roles, remove_roles)]
