"""Sending an outlet its parcels from the scorecard: the preview, one dispatch per confirm, retries."""

import datetime
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import CarrierFactory, CarrierOutletFactory, OrderFactory, ParcelFactory, ShopFactory
from monitoring.tests.factories import AlertFactory
from notifications.models import DigestStatus, OutletDispatch
from notifications.outlets import outlet_dispatch_create, outlet_dispatch_send
from notifications.services import MAX_ATTEMPTS
from notifications.tasks import send_due_outlet_dispatches
from notifications.tests.test_digests import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def stalled(shop, outlet, *, tracking_no, level="overdue", **alert_fields):
    paid = timezone.now() - datetime.timedelta(days=3)
    parcel = ParcelFactory(
        order=OrderFactory(shop=shop, paid_at=paid), shipped=True, outlet=outlet, tracking_no=tracking_no,
        carrier=outlet.carrier,
    )  # fmt: skip
    return AlertFactory(parcel=parcel, kind="stagnation", level=level, **alert_fields)


@pytest.fixture
def outlet(receiver):
    return CarrierOutletFactory(
        carrier=CarrierFactory(code="ZTO"), code="HZ01", name="余杭网点", contact_name="王经理", contact_phone="0571-1234",
        robot_kind="webhook", robot_url=receiver.url, robot_secret="k",
    )  # fmt: skip


def send_url(outlet):
    return reverse("admin:dashboard_outlet_send", args=[outlet.pk])


def test_two_clicks_on_confirm_send_the_outlet_its_parcels_once(
    manager_client, manager_user, receiver, outlet, django_capture_on_commit_callbacks
):
    shop = ShopFactory(code="acme")
    stalled(shop, outlet, tracking_no="ZT100")
    stalled(shop, outlet, tracking_no="ZT101", level="warning")

    preview = manager_client.get(send_url(outlet))
    token = preview.context["form"].initial["token"]
    with django_capture_on_commit_callbacks(execute=True):  # the send waits for the commit
        first = manager_client.post(send_url(outlet), {"token": token})
        second = manager_client.post(send_url(outlet), {"token": token})

    assert first.status_code == second.status_code == 302
    (dispatch,) = OutletDispatch.objects.all()
    assert (dispatch.by, dispatch.parcel_count, dispatch.status, dispatch.attempts) == (manager_user, 2, "sent", 1)
    assert len(receiver.requests) == 1
    body = receiver.json()
    assert body["outlet"]["code"] == "HZ01"
    assert sorted(p["tracking_no"] for p in body["parcels"]) == ["ZT100", "ZT101"]
    assert "ZT100" in body["csv"] and receiver.requests[0]["headers"]["Idempotency-Key"] == f"outlet-dispatch-{dispatch.pk}"
    page = manager_client.get(send_url(outlet)).content.decode()
    assert "already sent" in page and "manager" in page  # the second click said so; who sent it is listed


def test_a_failing_webhook_is_retried_with_backoff_then_sent_once(manager_user, receiver, outlet):
    stalled(ShopFactory(code="acme"), outlet, tracking_no="ZT200")
    dispatch, created = outlet_dispatch_create(outlet=outlet, by=manager_user, token=uuid.uuid4())
    assert created
    receiver.answer = (500, {"error": "down"})
    now = timezone.now()

    assert outlet_dispatch_send(dispatch_id=dispatch.pk, now=now) == "failed"
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts, dispatch.claimed_until) == (DigestStatus.PENDING, 1, None)
    assert "HTTP 500" in dispatch.last_error and dispatch.next_attempt_at == now + datetime.timedelta(minutes=1)
    assert send_due_outlet_dispatches() == 0  # not due yet

    receiver.answer = (200, {})
    dispatch.next_attempt_at = timezone.now() - datetime.timedelta(seconds=1)
    dispatch.save(update_fields=["next_attempt_at"])
    assert send_due_outlet_dispatches() == 1  # the beat task sends it (eagerly in tests)
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts, dispatch.last_error) == (DigestStatus.SENT, 2, "")
    assert outlet_dispatch_send(dispatch_id=dispatch.pk) == "skipped"
    assert len(receiver.requests) == 2


def test_a_dispatch_is_given_up_after_the_last_attempt(manager_user, receiver, outlet):
    stalled(ShopFactory(code="acme"), outlet, tracking_no="ZT300")
    dispatch, _created = outlet_dispatch_create(outlet=outlet, by=manager_user, token=uuid.uuid4())
    OutletDispatch.objects.filter(pk=dispatch.pk).update(attempts=MAX_ATTEMPTS - 1)
    receiver.answer = (200, {"errcode": 310000, "errmsg": "sign not match"})
    OutletDispatch.objects.filter(pk=dispatch.pk).update(kind="dingtalk")
    assert outlet_dispatch_send(dispatch_id=dispatch.pk) == "gave up"
    dispatch.refresh_from_db()
    assert dispatch.status == DigestStatus.FAILED and "sign not match" in dispatch.last_error


def test_the_preview_lists_exactly_the_outlets_stalled_parcels_of_the_users_shops(client, manager_user, outlet):
    mine, theirs = ShopFactory(code="mine"), ShopFactory(code="theirs")
    mine.members.add(manager_user)
    client.force_login(manager_user)
    stalled(mine, outlet, tracking_no="ZT-MINE-1")
    stalled(mine, outlet, tracking_no="ZT-MINE-2", level="warning")
    stalled(mine, outlet, tracking_no="ZT-RESOLVED", resolved_at=timezone.now())
    stalled(theirs, outlet, tracking_no="ZT-THEIRS")
    other_outlet = CarrierOutletFactory(carrier=outlet.carrier, code="HZ02")
    stalled(mine, other_outlet, tracking_no="ZT-OTHER-OUTLET")

    response = client.get(send_url(outlet))

    shown = sorted(alert.parcel.tracking_no for alert in response.context["rows"])
    assert shown == ["ZT-MINE-1", "ZT-MINE-2"] and response.context["total"] == 2
    content = response.content.decode()
    assert "ZT-THEIRS" not in content and "王经理" in content
    csv_body = b"".join(client.get(send_url(outlet), {"format": "csv"}).streaming_content).decode()
    assert "ZT-MINE-1" in csv_body and "ZT-THEIRS" not in csv_body and "ZT-OTHER-OUTLET" not in csv_body

    client.post(send_url(outlet), {"token": response.context["form"].initial["token"]})
    (dispatch,) = OutletDispatch.objects.all()
    assert dispatch.parcel_count == 2 and "ZT-THEIRS" not in dispatch.csv


def test_an_email_outlet_gets_the_list_with_the_csv_attached(manager_user):
    outlet = CarrierOutletFactory(contact_email="hz@example.com, boss@example.com")
    stalled(ShopFactory(code="acme"), outlet, tracking_no="YT900")
    dispatch, _created = outlet_dispatch_create(outlet=outlet, by=manager_user, token=uuid.uuid4())
    assert outlet_dispatch_send(dispatch_id=dispatch.pk) == "sent"
    (email,) = mail.outbox
    assert email.to == ["hz@example.com", "boss@example.com"] and "YT900" in email.body
    (name, content, mimetype) = email.attachments[0]
    assert name.endswith(".csv") and "YT900" in content and mimetype == "text/csv"


def test_the_scorecard_offers_the_send_button_for_outlets_with_a_contact(manager_client, outlet):
    shop = ShopFactory(code="acme")
    silent = CarrierOutletFactory(carrier=outlet.carrier, code="HZ03", name="无联系网点")
    for o, number in ((outlet, "ZT1"), (silent, "ZT2")):
        stalled(shop, o, tracking_no=number)
    content = manager_client.get(reverse("admin:dashboard_outlets"), {"shop": shop.pk}).content.decode()
    assert send_url(outlet) in content and send_url(silent) not in content


def test_warehouse_clerks_cannot_send_an_outlet_anything(warehouse_client, outlet):
    assert warehouse_client.get(send_url(outlet)).status_code == 403
    assert warehouse_client.post(send_url(outlet), {"token": str(uuid.uuid4())}).status_code == 403
    assert not OutletDispatch.objects.exists()


def test_an_outlet_without_a_contact_or_without_stalled_parcels_is_not_sent_anything(manager_client):
    silent = CarrierOutletFactory()
    response = manager_client.post(send_url(silent), {"token": str(uuid.uuid4())}, follow=True)
    assert "no IM robot or email" in response.content.decode()
    reachable = CarrierOutletFactory(contact_email="a@example.com")
    response = manager_client.post(send_url(reachable), {"token": str(uuid.uuid4())}, follow=True)
    assert "no stalled or overdue parcel" in response.content.decode()
    assert not OutletDispatch.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_clicks_make_one_dispatch(manager_user):
    """Both requests find no dispatch of the token and insert one: the unique token makes the second
    wait for the first's commit, fail, and return the first's dispatch."""
    import threading

    from django.db import connection

    outlet = CarrierOutletFactory(contact_email="hz@example.com")
    stalled(ShopFactory(code="acme"), outlet, tracking_no="ZT-RACE")
    token, barrier, results = uuid.uuid4(), threading.Barrier(2), []

    def click():
        try:
            barrier.wait(5)
            results.append(outlet_dispatch_create(outlet=outlet, by=manager_user, token=token))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(created for _dispatch, created in results) == [False, True]
    assert len({dispatch.pk for dispatch, _created in results}) == 1
    assert OutletDispatch.objects.count() == 1
