"""The groups a fresh database holds are exactly the roles of backoffice.roles (DESIGN.md, "People")."""
import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from backoffice import roles
from backoffice.roles import ROLES

pytestmark = pytest.mark.django_db


def permissions_of(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.mark.parametrize("name", sorted(ROLES))
def test_each_group_holds_exactly_its_role(name):
    assert permissions_of(Group.objects.get(name=name)) == set(ROLES[name])


def test_the_roles_are_the_only_groups():
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)


def test_applying_the_roles_again_changes_nothing_and_keeps_hand_given_permissions():
    managers = Group.objects.get(name="Managers")
    cancel = Permission.objects.get(content_type__app_label="pickups", codename="cancel_handoversheet")
    managers.permissions.add(cancel)

    migration = importlib.import_module("backoffice.migrations.0001_roles")
    state = MigrationLoader(connection).project_state(("backoffice", "0001_roles"))
    migration.apply_roles(state.apps, None)

    assert permissions_of(managers) == set(ROLES["Managers"]) | {"pickups.cancel_handoversheet"}
    assert permissions_of(Group.objects.get(name="Warehouse")) == set(ROLES["Warehouse"])
    assert Group.objects.count() == 2


def test_warehouse_marks_parcels_ready_to_ship_and_managers_do_not():
    assert "fulfillment.mark_ready_to_ship_parcel" in ROLES["Warehouse"]
    assert "fulfillment.mark_ready_to_ship_parcel" not in ROLES["Managers"]
    assert "monitoring.view_dashboard" in ROLES["Managers"]
    assert not any(p.startswith("monitoring.") for p in ROLES["Warehouse"])


def test_a_role_naming_a_permission_that_does_not_exist_is_refused(monkeypatch):
    monkeypatch.setitem(roles.ROLES, "Warehouse", ["pickups.view_consolidationbag", "pickups.fly_consolidationbag"])
    with pytest.raises(LookupError, match="pickups.fly_consolidationbag"):
        roles.grant_roles(Group, Permission)
