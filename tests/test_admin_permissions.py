"""Every admin page answers each group according to its model permissions (DESIGN.md, "People").

The models are read from `admin.site._registry` when the tests are collected, so an admin registered
later by any app is covered without editing this file. The expectation is derived from the user's
own `has_perm` (what the data migration granted), and a few hard-coded cases pin the rules the
business cares about, so that a migration granting too much is caught as well.
"""

import importlib
import inspect

import factory
import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _factories_by_model() -> dict:
    found = {}
    for app_config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app_config.name}.tests.factories")
        except ImportError:
            continue
        for _name, candidate in inspect.getmembers(module, inspect.isclass):
            if issubclass(candidate, factory.django.DjangoModelFactory) and candidate._meta.model is not None:
                found.setdefault(candidate._meta.model, candidate)
    return found


def _build_transition():
    from pickups.models import Transition
    from pickups.tests.factories import ConsolidationBagFactory

    return Transition.objects.create(bag=ConsolidationBagFactory(), from_status="open", to_status="sealed")


def _build_import_run():
    from fulfillment.models import ImportRun

    return ImportRun.objects.create(command="import_orders", source="orders.csv", rows_read=3, rows_inserted=3)


BUILDERS = {"pickups.Transition": _build_transition, "fulfillment.ImportRun": _build_import_run}


def an_instance_of(model):
    """A row to open the change page of: from the data migration, a builder, or the app's factory."""
    existing = model._default_manager.order_by("pk").first()
    if existing is not None:
        return existing
    if model._meta.label in BUILDERS:
        return BUILDERS[model._meta.label]()
    model_factory = _factories_by_model().get(model)
    if model_factory is None:
        pytest.fail(f"No way to create a {model._meta.label}: add a factory in its app or a builder here.")
    return model_factory()


def admin_url(model, page, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def perm(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def expected_status(user, model, page) -> int:
    if page == "add":
        allowed = user.has_perm(perm(model, "add"))
    else:  # the change list and the change page are readable with view or change permission
        allowed = user.has_perm(perm(model, "view")) or user.has_perm(perm(model, "change"))
    return 200 if allowed else 403


@pytest.fixture
def group_user(request, warehouse_user, manager_user):
    return {"warehouse": warehouse_user, "manager": manager_user}[request.param]


@pytest.mark.parametrize("group_user", ["warehouse", "manager"], indirect=True)
@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_pages_follow_the_group_permissions(client, group_user, model):
    obj = an_instance_of(model)
    user = get_user_model().objects.get(pk=group_user.pk)  # fresh permission cache
    client.force_login(user)

    seen = {
        "changelist": client.get(admin_url(model, "changelist")).status_code,
        "add": client.get(admin_url(model, "add")).status_code,
        "change": client.get(admin_url(model, "change", obj.pk)).status_code,
    }

    expected = {page: expected_status(user, model, page) for page in seen}
    assert seen == expected


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_anonymous_users_are_sent_to_the_login_page(client, model):
    url = admin_url(model, "changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def registered(label: str):
    model = apps.get_model(label)
    if model not in admin.site._registry:
        pytest.skip(f"{label} has no admin yet")
    return model


def test_groups_were_granted_something_to_see(warehouse_user, manager_user):
    # Guards the derived test against both groups silently having no permission at all.
    assert warehouse_user.has_perm("fulfillment.view_parcel")
    assert manager_user.has_perm("monitoring.view_alert")


def test_warehouse_cannot_change_sla_policies(warehouse_client):
    model = registered("monitoring.SlaPolicy")
    policy = model.objects.order_by("pk").first()
    url = admin_url(model, "change", policy.pk)
    assert warehouse_client.get(url).status_code == 403
    assert warehouse_client.post(url, {"name": "hacked"}).status_code == 403
    policy.refresh_from_db()
    assert policy.name != "hacked"


def test_manager_can_edit_sla_policy_thresholds(manager_client):
    model = registered("monitoring.SlaPolicy")
    policy = model.objects.order_by("pk").first()
    response = manager_client.get(admin_url(model, "change", policy.pk))
    assert response.status_code == 200
    assert 'name="stagnation_hours"' in response.content.decode()


def test_manager_cannot_add_a_consolidation_bag(manager_client):
    model = registered("pickups.ConsolidationBag")
    assert manager_client.get(admin_url(model, "add")).status_code == 403


def test_warehouse_can_open_a_new_consolidation_bag(warehouse_client):
    model = registered("pickups.ConsolidationBag")
    assert warehouse_client.get(admin_url(model, "add")).status_code == 200


def test_warehouse_cannot_see_alerts(warehouse_client):
    model = registered("monitoring.Alert")
    assert warehouse_client.get(admin_url(model, "changelist")).status_code == 403


def test_holidays_are_added_by_managers_not_by_the_warehouse(warehouse_client, manager_user, client):
    model = registered("fulfillment.Holiday")
    assert warehouse_client.get(admin_url(model, "add")).status_code == 403
    client.force_login(manager_user)
    assert client.get(admin_url(model, "add")).status_code == 200


def test_nobody_in_the_groups_adds_parcels_by_hand(warehouse_client, manager_user, client):
    model = registered("fulfillment.Parcel")
    assert warehouse_client.get(admin_url(model, "add")).status_code == 403
    client.force_login(manager_user)
    assert client.get(admin_url(model, "add")).status_code == 403


def test_manager_reads_parcels_without_an_editable_form(manager_client):
    from fulfillment.tests.factories import ParcelFactory

    parcel = ParcelFactory(shipped=True)
    html = manager_client.get(admin_url(registered("fulfillment.Parcel"), "change", parcel.pk)).content.decode()
    assert 'name="weight_kg"' not in html
    assert 'name="_save"' not in html
