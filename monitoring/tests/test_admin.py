"""The monitoring admin as a manager uses it: alerts list, resolving a false sign-off, answering a ticket."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import ParcelFactory
from monitoring.models import Alert, AlertKind, AlertLevel, Complaint, SlaPolicy, StagnationTicket
from monitoring.tests.factories import AlertFactory, ComplaintFactory, StagnationTicketFactory

pytestmark = pytest.mark.django_db

ALERTS = reverse("admin:monitoring_alert_changelist")


def test_alert_list_filters_and_search(manager_client):
    shown = AlertFactory(parcel=ParcelFactory(shipped=True, tracking_no="YT5550001"), kind=AlertKind.PICKUP_OVERDUE)
    AlertFactory(parcel=ParcelFactory(shipped=True, tracking_no="YT5550002"), kind=AlertKind.STAGNATION)
    AlertFactory(parcel=ParcelFactory(shipped=True, tracking_no="ZT9990003"), resolved_at=timezone.now())
    html = manager_client.get(ALERTS, {"kind": "pickup_overdue", "state": "open"}).content.decode()
    assert "YT5550001" in html and "YT5550002" not in html and "ZT9990003" not in html
    html = manager_client.get(ALERTS, {"q": "YT555"}).content.decode()  # prefix
    assert "YT5550001" in html and "YT5550002" in html and "ZT9990003" not in html
    html = manager_client.get(ALERTS, {"q": "yt5550002"}).content.decode()  # exact, as typed in lower case
    assert "YT5550002" in html and "YT5550001" not in html
    assert manager_client.get(ALERTS, {"state": "resolved"}).status_code == 200
    assert shown.pk


def test_resolve_action_asks_for_a_note_then_resolves_false_signoffs_only(manager_client, manager_user):
    complaint = ComplaintFactory()
    signoff = AlertFactory(parcel=complaint.parcel, kind=AlertKind.FALSE_SIGNOFF, level=AlertLevel.OVERDUE)
    pickup = AlertFactory(kind=AlertKind.PICKUP_OVERDUE)
    selection = {"action": "resolve_false_signoffs", "_selected_action": [signoff.pk, pickup.pk]}
    page = manager_client.post(ALERTS, selection)
    assert page.status_code == 200 and 'name="note"' in page.content.decode()
    assert Alert.objects.get(pk=signoff.pk).resolved_at is None  # nothing yet
    # An empty note is refused: the form comes back.
    assert 'name="note"' in manager_client.post(ALERTS, {**selection, "apply": "1", "note": ""}).content.decode()
    response = manager_client.post(ALERTS, {**selection, "apply": "1", "note": "买家已确认收货"}, follow=True)
    text = response.content.decode()
    assert "1 alert resolved" in text and "1 skipped" in text
    signoff.refresh_from_db()
    assert signoff.resolved_by == manager_user and signoff.resolution_note == "买家已确认收货"
    assert Alert.objects.get(pk=pickup.pk).resolved_at is None
    assert Complaint.objects.get(pk=complaint.pk).resolved_at is not None


def test_resolve_action_needs_the_permission(client, manager_user):
    manager_user.groups.first().permissions.remove(Permission.objects.get(codename="resolve_alert"))
    client.force_login(manager_user)
    signoff = AlertFactory(kind=AlertKind.FALSE_SIGNOFF)
    assert "resolve_false_signoffs" not in client.get(ALERTS).content.decode()
    client.post(
        ALERTS, {"action": "resolve_false_signoffs", "_selected_action": [signoff.pk], "apply": "1", "note": "x"}
    )
    assert Alert.objects.get(pk=signoff.pk).resolved_at is None


def test_alerts_cannot_be_deleted_or_added(manager_client):
    alert = AlertFactory()
    assert manager_client.get(reverse("admin:monitoring_alert_delete", args=[alert.pk])).status_code == 403
    assert manager_client.get(reverse("admin:monitoring_alert_add")).status_code == 403


def test_manager_answers_a_ticket_in_the_change_form(manager_client, manager_user):
    ticket = StagnationTicketFactory(opened_at=timezone.now() - datetime.timedelta(hours=20))
    url = reverse("admin:monitoring_stagnationticket_change", args=[ticket.pk])
    assert 'name="response"' in manager_client.get(url).content.decode()
    response = manager_client.post(url, {"response": "快递已恢复派送"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.response, ticket.answered_by) == ("快递已恢复派送", manager_user)
    assert ticket.answered_at is not None
    assert 'name="response"' not in manager_client.get(url).content.decode()  # answered: read-only now


def test_ticket_answer_needs_text(manager_client):
    ticket = StagnationTicketFactory()
    url = reverse("admin:monitoring_stagnationticket_change", args=[ticket.pk])
    assert manager_client.post(url, {"response": "  "}).status_code == 200  # the form with its error
    assert StagnationTicket.objects.get(pk=ticket.pk).answered_at is None


def test_ticket_list_filter(manager_client):
    StagnationTicketFactory(parcel=ParcelFactory(picked_up=True, tracking_no="YT1110001"))
    answered = StagnationTicketFactory(parcel=ParcelFactory(picked_up=True, tracking_no="YT1110002"))
    StagnationTicket.objects.filter(pk=answered.pk).update(answered_at=timezone.now(), response="done")
    html = manager_client.get(
        reverse("admin:monitoring_stagnationticket_changelist"), {"answer": "open"}
    ).content.decode()
    assert "YT1110001" in html and "YT1110002" not in html


def test_policy_change_recomputes_deadlines(manager_client, django_capture_on_commit_callbacks):
    parcel = ParcelFactory(shipped=True)
    policy = SlaPolicy.objects.get(code="tmall")
    url = reverse("admin:monitoring_slapolicy_change", args=[policy.pk])
    form = manager_client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update(
        pickup_due_hours=72, pickup_warn_hours=60, is_active="on", ship_requires_pickup="", count_working_days=""
    )
    data = {k: v for k, v in data.items() if v not in (False,)}
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    parcel.refresh_from_db()
    assert parcel.pickup_due_at == parcel.paid_at + datetime.timedelta(hours=72)


def test_a_manager_sets_the_ship_at_risk_hours_within_1_to_720(manager_client, django_capture_on_commit_callbacks):
    parcel = ParcelFactory(accepted_at=datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC))  # a warehouse node
    policy = SlaPolicy.objects.get(code="tmall")
    url = reverse("admin:monitoring_slapolicy_change", args=[policy.pk])
    form = manager_client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update(is_active="on", ship_requires_pickup="", count_working_days="")
    data = {k: v for k, v in data.items() if v not in (False,)}

    refused = manager_client.post(url, {**data, "ship_at_risk_hours": 0})
    assert refused.status_code == 200 and "ship_at_risk_hours" in refused.context["adminform"].form.errors
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {**data, "ship_at_risk_hours": 4})
    assert response.status_code == 302
    parcel.refresh_from_db()
    assert parcel.ship_risk_at == parcel.paid_at + datetime.timedelta(hours=20)  # 24 h − 4 h
