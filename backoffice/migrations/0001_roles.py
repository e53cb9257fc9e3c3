"""The `Warehouse` and `Managers` groups with the permissions of `backoffice.roles.ROLES`.

Replaces the role parts of monitoring 0003/0005 (now no-ops): on a database where they ran, the
groups already hold these permissions and this adds nothing. It runs after the latest migration of
each app so that every permission named in the roles exists. Permissions added to the roles since
(`backoffice.roles.ADDED_ROLES`) are granted by later migrations.
"""
from django.contrib.auth.management import create_permissions
from django.db import migrations

from backoffice.roles import FIRST_ROLES as ROLES
from backoffice.roles import grant_roles


def apply_roles(apps, schema_editor):
    # Permissions are otherwise created after the last migration (post_migrate): create them now.
    for label in sorted({perm.split(".", 1)[0] for perms in ROLES.values() for perm in perms}):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # the migration state's app stub: let create_permissions see its models
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    grant_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


def remove_roles(apps, schema_editor):
    """As monitoring 0003 did when it was unapplied: the groups go."""
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0011_shop_timezone_validator"),
        ("pickups", "0002_sheet_constraints"),
        ("monitoring", "0005_warehouse_marks_ready_to_ship"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(apply_roles, remove_roles)]
