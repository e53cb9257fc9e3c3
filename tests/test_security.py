"""Who may do what, checked over HTTP as each group (issue: production profile, security)."""
import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from monitoring.models import AlertKind, SlaPolicy
from monitoring.tests.factories import AlertFactory
from pickups.models import SheetStatus
from pickups.tests.factories import HandoverSheetFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


DASHBOARDS = ["/admin/dashboard/", "/admin/dashboard/stalled/", "/admin/dashboard/shops/", "/admin/dashboard/outlets/"]


@pytest.mark.parametrize("url", DASHBOARDS)
def test_warehouse_cannot_open_manager_pages(warehouse_user, manager_user, url):
    assert logged_in(warehouse_user).get(url).status_code == 403
    assert logged_in(manager_user).get(url).status_code == 200


@pytest.mark.parametrize("url", DASHBOARDS)
def test_dashboards_need_an_active_staff_member(manager_user, url):
    manager_user.is_staff = False
    manager_user.save()
    response = logged_in(manager_user).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    manager_user.is_staff, manager_user.is_active = True, False
    manager_user.save()
    response = logged_in(manager_user).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", DASHBOARDS)
def test_old_dashboard_addresses_lead_to_the_admin_pages(manager_user, url):
    old = url.removeprefix("/admin")
    response = logged_in(manager_user).get(old, {"level": "overdue"})
    assert response.status_code == 301
    assert response["Location"] == f"{url}?level=overdue"


def test_warehouse_cannot_change_sla_policies(warehouse_user):
    policy = SlaPolicy.objects.get(code="tmall")
    url = f"/admin/monitoring/slapolicy/{policy.pk}/change/"
    client = logged_in(warehouse_user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "hacked", "pickup_due_hours": 480}).status_code == 403
    policy.refresh_from_db()
    assert (policy.name, policy.pickup_due_hours) == ("Tmall logistics timeliness", 48)


def test_warehouse_cannot_resolve_alerts(warehouse_user):
    alert = AlertFactory(kind=AlertKind.FALSE_SIGNOFF, level="overdue")
    response = logged_in(warehouse_user).post(
        "/admin/monitoring/alert/",
        {"action": "resolve_false_signoffs", "_selected_action": [alert.pk], "note": "settled", "apply": "1"},
    )
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_manager_cannot_cancel_a_sheet_unless_given_the_permission(manager_user):
    sheet = HandoverSheetFactory(status=SheetStatus.BOOKED)
    url = f"/admin/pickups/handoversheet/{sheet.pk}/cancel/"
    assert logged_in(manager_user).post(url, {"reason": "courier did not come"}).status_code == 403
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED

    manager_user.user_permissions.add(Permission.objects.get(codename="cancel_handoversheet"))
    manager_user = type(manager_user).objects.get(pk=manager_user.pk)  # fresh permission cache
    logged_in(manager_user).post(url, {"reason": "courier did not come"})
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.CANCELLED
    assert sheet.cancel_reason == "courier did not come"


def test_cancel_form_needs_the_csrf_token(warehouse_user):
    sheet = HandoverSheetFactory(status=SheetStatus.BOOKED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(warehouse_user)
    response = client.post(f"/admin/pickups/handoversheet/{sheet.pk}/cancel/", {"reason": "no token"})
    assert response.status_code == 403
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED
