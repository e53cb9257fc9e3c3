"""The `Warehouse` and `Managers` groups with their model permissions (DESIGN.md, "People")."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ALL = [
    ("fulfillment", m)
    for m in ("shop", "carrier", "carrieroutlet", "order", "parcel", "trackingevent", "region", "holiday", "importrun")
] + [
    ("pickups", m)
    for m in ("consolidationbag", "bagitem", "handoversheet", "handoveritem", "pickupcoverage", "transition")
] + [("monitoring", m) for m in ("slapolicy", "routestandard", "alert", "stagnationticket", "complaint")]



def view(app, model):
    return (app, f"view_{model}")


GROUPS = {
    # Clerks: bags and sheets (create, scan, seal, book, confirm pickup, cancel); read the parcels.
    "Warehouse": [view(app, model) for app, model in VIEW_ALL if app in ("fulfillment", "pickups")]
    + [
        ("pickups", "add_consolidationbag"),
        ("pickups", "change_consolidationbag"),
        ("pickups", "seal_consolidationbag"),
        ("pickups", "add_bagitem"),
        ("pickups", "delete_bagitem"),
        ("pickups", "add_handoversheet"),
        ("pickups", "change_handoversheet"),
        ("pickups", "cancel_handoversheet"),
        ("pickups", "confirm_pickup_handoversheet"),
        ("pickups", "add_handoveritem"),
    ],
    # Managers: read everything, edit thresholds and reference data, answer tickets, resolve alerts,
    # dashboards and claim evidence. Cancelling a sheet is the warehouse's, unless given explicitly.
    "Managers": [view(app, model) for app, model in VIEW_ALL]
    + [
        ("monitoring", "change_slapolicy"),
        ("monitoring", "add_routestandard"),
        ("monitoring", "change_routestandard"),
        ("monitoring", "change_alert"),
        ("monitoring", "resolve_alert"),
        ("monitoring", "view_dashboard"),
        ("monitoring", "change_stagnationticket"),
        ("monitoring", "answer_stagnationticket"),
        ("monitoring", "change_complaint"),
        ("fulfillment", "add_holiday"),
        ("fulfillment", "change_holiday"),
        ("fulfillment", "add_region"),
        ("fulfillment", "change_region"),
        ("pickups", "export_claim_evidence"),
    ],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app, codename in perms:
            group.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_seed_sla_policies"),
        ("pickups", "0001_initial"),
        ("fulfillment", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
