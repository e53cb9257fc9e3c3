"""Managers see and review shop alerts and edit the order spike threshold (`ADDED_ROLES`)."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

from backoffice.roles import ADDED_ROLES, grant_roles

ROLES = ADDED_ROLES["0003_shop_alert_roles"]


def apply_roles(apps, schema_editor):
    app_config = apps.get_app_config("monitoring")
    app_config.models_module = True  # see 0001: let create_permissions see the migration state's models
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    grant_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


def remove_roles(apps, schema_editor):
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    codenames = [perm.split(".", 1)[1] for perms in ROLES.values() for perm in perms]
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="monitoring", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_outlet_sends"),
        ("monitoring", "0008_shop_alerts"),
    ]
    operations = [migrations.RunPython(apply_roles, remove_roles)]
