"""A complaint resolved from its own page; a ticket's page with its parcel's tracking history in shop time."""

import datetime

import pytest
from django.urls import reverse

from fulfillment.models import EventCode
from fulfillment.tests.factories import OrderFactory, ParcelFactory, ShopFactory, TrackingEventFactory
from monitoring.models import Alert, AlertKind, AlertLevel, Complaint
from monitoring.tests.factories import AlertFactory, ComplaintFactory, StagnationTicketFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def test_a_complaint_is_resolved_from_its_own_page_with_its_alert(manager_client, manager_user):
    complaint = ComplaintFactory()
    signoff = AlertFactory(parcel=complaint.parcel, kind=AlertKind.FALSE_SIGNOFF, level=AlertLevel.OVERDUE)
    url = reverse("admin:monitoring_complaint_change", args=[complaint.pk])

    page = manager_client.get(url).content.decode()
    assert 'name="note"' in page
    assert 'value="Resolve the complaint"' in page and "Save and add another" not in page
    assert "False sign-off complaint" in page and ">false_signoff<" not in page
    refused = manager_client.post(url, {"note": "  "})
    assert refused.status_code == 200 and Complaint.objects.get(pk=complaint.pk).resolved_at is None

    response = manager_client.post(url, {"note": "买家已确认收货"}, follow=True)

    assert "The complaint is resolved." in response.content.decode()
    complaint.refresh_from_db()
    assert (complaint.resolved_by, complaint.note) == (manager_user, "买家已确认收货")
    assert Alert.objects.get(pk=signoff.pk).resolved_at is not None
    resolved_page = manager_client.get(url).content.decode()
    assert 'name="note"' not in resolved_page and "Resolve the complaint" not in resolved_page  # read-only


def test_complaint_list_shows_kinds_as_labels(manager_client):
    ComplaintFactory()

    html = manager_client.get(reverse("admin:monitoring_complaint_changelist")).content.decode()

    assert "False sign-off complaint" in html and ">false_signoff<" not in html


def test_ticket_page_shows_the_tracking_history_and_the_deadline_in_the_shops_time(manager_client):
    shop = ShopFactory(code="lz", timezone="Asia/Bangkok")
    opened = datetime.datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 09:00 in Bangkok
    parcel = ParcelFactory(order=OrderFactory(shop=shop, paid_at=opened - datetime.timedelta(days=3)), picked_up=True)
    TrackingEventFactory(parcel=parcel, code=EventCode.PICKED_UP, occurred_at=opened - datetime.timedelta(days=2),
                         location="Lat Krabang")
    ticket = StagnationTicketFactory(parcel=parcel, opened_at=opened, response_warn_at=opened + datetime.timedelta(hours=16),
                                     response_due_at=opened + datetime.timedelta(hours=24))

    html = manager_client.get(reverse("admin:monitoring_stagnationticket_change", args=[ticket.pk])).content.decode()

    assert "Lat Krabang" in html and "2026-05-30 09:00" in html  # the event, in Bangkok time
    assert "June 2, 2026, 9 a.m." in html or "2026-06-02 09:00" in html  # the deadline, in Bangkok time
    assert "2026-06-01 09:00" in html  # the title too
    assert 'name="response"' in html
