"""Digests: what a channel is told, once; the robots' formats against a local HTTP server; retries."""

import base64
import datetime
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.tests.factories import CarrierFactory, ParcelFactory, ShopFactory
from monitoring.tests.factories import AlertFactory
from notifications.models import ChannelAlert, Digest, DigestStatus
from notifications.services import MAX_ATTEMPTS, digest_send, digests_collect, due_digest_ids
from notifications.tasks import notify_after_scan
from notifications.tests.factories import NotificationChannelFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP endpoint recording each request; answers with `answer` (status, JSON)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = (200, {"errcode": 0})
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload = receiver.answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?access_token=t0ken"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json(self, n=-1) -> dict:
        return json.loads(self.requests[n]["body"])


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def shop():
    return ShopFactory(code="acme", name="Acme")


def alert(shop, **kwargs):
    parcel = ParcelFactory(shop=shop, carrier=CarrierFactory(code="YTO"), shipped=True)
    return AlertFactory(parcel=parcel, **kwargs)


# ------------------------------------------------------------------------------------------ what is collected


def test_a_channel_gets_what_it_wants_once_and_an_upgrade_again(shop):
    other = ShopFactory(code="other")
    channel = NotificationChannelFactory(alert_kinds=["pickup_overdue"])
    channel.shops.add(shop)
    wanted = alert(shop, kind="pickup_overdue")
    alert(shop, kind="update_overdue")  # another kind
    alert(other, kind="pickup_overdue")  # another shop
    alert(shop, kind="pickup_overdue", resolved_at=timezone.now())  # resolved

    (digest,) = digests_collect()
    assert list(ChannelAlert.objects.filter(digest=digest).values_list("alert", "level")) == [(wanted.pk, "warning")]
    assert digests_collect() == []  # the next scan: nothing new

    wanted.level, wanted.escalated_at = "overdue", timezone.now()
    wanted.save()
    (upgrade,) = digests_collect()
    assert list(ChannelAlert.objects.filter(digest=upgrade).values_list("alert", "level")) == [(wanted.pk, "overdue")]


def test_minimum_level_and_alerts_from_before_the_channel_existed(shop):
    old = alert(shop, raised_at=timezone.now() - datetime.timedelta(days=1))
    channel = NotificationChannelFactory(min_level="overdue")
    alert(shop, level="warning")
    overdue = alert(shop, level="overdue")
    (digest,) = digests_collect()
    assert list(ChannelAlert.objects.filter(digest=digest).values_list("alert", flat=True)) == [overdue.pk]
    assert old.pk not in ChannelAlert.objects.filter(channel=channel).values_list("alert", flat=True)


# ------------------------------------------------------------------------------------------ formats


def test_dingtalk_markdown_signed_in_the_url(receiver, shop):
    NotificationChannelFactory(kind="dingtalk", target=receiver.url, secret="SECxyz", language="zh-hans")
    alert(shop, level="overdue")
    (digest,) = digests_collect()

    assert digest_send(digest_id=digest.pk) == "sent"
    request = receiver.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request["path"]).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECxyz", f"{timestamp}\nSECxyz".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"][0] == expected and query["access_token"] == ["t0ken"]
    body = receiver.json()
    assert body["msgtype"] == "markdown" and "包裹管控" in body["markdown"]["title"]
    assert "YTO" in body["markdown"]["text"]


def test_feishu_text_signed_in_the_body(receiver, shop):
    NotificationChannelFactory(kind="feishu", target=receiver.url, secret="fsecret")
    receiver.answer = (200, {"code": 0, "msg": "success"})
    alert(shop)
    (digest,) = digests_collect()

    assert digest_send(digest_id=digest.pk) == "sent"
    body = receiver.json()
    string_to_sign = f"{body['timestamp']}\nfsecret".encode()
    assert body["sign"] == base64.b64encode(hmac.new(string_to_sign, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text" and "1 alert" in body["content"]["text"]


def test_wecom_markdown(receiver, shop):
    NotificationChannelFactory(kind="wecom", target=receiver.url)
    alert(shop)
    (digest,) = digests_collect()
    assert digest_send(digest_id=digest.pk) == "sent"
    assert receiver.json()["msgtype"] == "markdown" and "Acme" in receiver.json()["markdown"]["content"]


def test_webhook_json_signed_with_an_idempotency_key(receiver, shop):
    NotificationChannelFactory(kind="webhook", target=receiver.url, secret="hook-key")
    raised = alert(shop)
    (digest,) = digests_collect()
    assert digest_send(digest_id=digest.pk) == "sent"
    request = receiver.requests[0]
    assert request["headers"]["Idempotency-Key"] == f"digest-{digest.pk}"
    assert request["headers"]["X-Signature"] == "sha256=" + hmac.new(b"hook-key", request["body"], hashlib.sha256).hexdigest()
    assert [a["id"] for a in receiver.json()["alerts"]] == [raised.pk]


def test_email_through_djangos_backend(shop, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    NotificationChannelFactory(kind="email", target="ops@example.com, boss@example.com")
    alert(shop)
    (digest,) = digests_collect()
    assert digest_send(digest_id=digest.pk) == "sent"
    (message,) = mail.outbox
    assert message.to == ["ops@example.com", "boss@example.com"] and "1 alert" in message.subject


# ------------------------------------------------------------------------------------------ once, and retried


def test_a_failed_send_is_retried_with_backoff_then_sent_once(receiver, shop):
    NotificationChannelFactory(kind="dingtalk", target=receiver.url)
    alert(shop)
    (digest,) = digests_collect()
    receiver.answer = (200, {"errcode": 310000, "errmsg": "sign not match"})
    now = timezone.now()

    assert digest_send(digest_id=digest.pk, now=now) == "failed"
    digest.refresh_from_db()
    assert (digest.status, digest.attempts) == (DigestStatus.PENDING, 1) and "sign not match" in digest.last_error
    assert digest.pk not in due_digest_ids(now=now)  # not before the backoff
    later = now + datetime.timedelta(minutes=1, seconds=1)
    assert due_digest_ids(now=later) == [digest.pk]

    receiver.answer = (200, {"errcode": 0})
    assert digest_send(digest_id=digest.pk, now=later) == "sent"
    assert digest_send(digest_id=digest.pk, now=later) == "skipped"  # a redelivered task
    assert len(receiver.requests) == 2 and Digest.objects.get().status == DigestStatus.SENT


def test_a_digest_that_keeps_failing_is_given_up_and_shown(shop):
    NotificationChannelFactory(kind="webhook", target="http://127.0.0.1:9/closed")
    alert(shop)
    (digest,) = digests_collect()
    now = timezone.now()
    for attempt in range(MAX_ATTEMPTS):
        outcome = digest_send(digest_id=digest.pk, now=now + datetime.timedelta(hours=attempt))
    assert outcome == "gave up"
    digest.refresh_from_db()
    assert digest.status == DigestStatus.FAILED and digest.attempts == MAX_ATTEMPTS and digest.last_error


def test_a_worker_that_died_mid_send_holds_the_digest_only_until_its_claim_runs_out(receiver, shop, settings):
    NotificationChannelFactory(kind="webhook", target=receiver.url)
    alert(shop)
    (digest,) = digests_collect()
    now = timezone.now()
    # The dead worker's claim: committed, nothing sent.
    Digest.objects.filter(pk=digest.pk).update(claimed_until=now + datetime.timedelta(seconds=120))

    assert digest_send(digest_id=digest.pk, now=now) == "skipped"  # another worker meanwhile
    assert due_digest_ids(now=now) == []
    after = now + datetime.timedelta(seconds=121)
    assert due_digest_ids(now=after) == [digest.pk]
    assert digest_send(digest_id=digest.pk, now=after) == "sent"
    assert len(receiver.requests) == 1


def test_after_each_scan_the_new_digests_are_sent_after_commit(receiver, shop, django_capture_on_commit_callbacks):
    NotificationChannelFactory(kind="wecom", target=receiver.url)
    alert(shop)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notify_after_scan(now=timezone.now()) == 1
    assert receiver.requests == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert Digest.objects.get().status == DigestStatus.SENT
    assert notify_after_scan(now=timezone.now()) == 0
    assert len(receiver.requests) == 1


def test_the_scan_command_collects_the_digests_of_what_it_raised(shop, django_capture_on_commit_callbacks):
    import io

    from django.core.management import call_command

    from monitoring.tests.test_tasks import _overdue_parcel

    channel = NotificationChannelFactory(kind="webhook", target="http://127.0.0.1:9/closed")
    _overdue_parcel()
    with django_capture_on_commit_callbacks(execute=False):
        call_command("scan_parcels", stdout=io.StringIO())
    digest = Digest.objects.get(channel=channel)
    assert digest.alert_count == 1 and digest.status == DigestStatus.PENDING


# ------------------------------------------------------------------------------------------ shop alerts


def test_an_unusual_day_of_orders_is_sent_once_to_the_channels_that_want_it(receiver, shop):
    from monitoring.tests.factories import ShopAlertFactory
    from notifications.models import ChannelShopAlert

    every = NotificationChannelFactory(target=receiver.url, secret="k")
    NotificationChannelFactory(alert_kinds=["pickup_overdue"])  # parcel alerts only
    NotificationChannelFactory(min_level="overdue")  # a spike is a warning
    spike = ShopAlertFactory(shop=shop, orders=412)

    (digest,) = digests_collect()
    assert digest.channel == every and digest.alert_count == 1
    assert list(ChannelShopAlert.objects.values_list("channel", "shop_alert")) == [(every.pk, spike.pk)]
    assert digests_collect() == []  # once
    assert digest_send(digest_id=digest.pk) == "sent"
    body = receiver.json()
    assert body["shop_alerts"] == [
        {"id": spike.pk, "kind": "order_spike", "shop": "acme", "day": "2026-03-20", "orders": 412, "median": "31.5"}
    ]
    from notifications.services import digest_message

    message = digest_message(digest)
    assert message.title == "Parcel Control: 1 alert (0 overdue)"
    assert message.lines[0].startswith("Unusual order volume · Acme · 2026-03-20: 412 paid orders (median 31.5)")
