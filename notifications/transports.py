"""How a digest (or an outlet's list of parcels) reaches each kind of channel, in each receiver's own format.

A "channel" here is anything with `kind`, `target` and `secret`: a `NotificationChannel`, or an
`OutletDispatch` that carries the outlet's robot or email addresses.

- email: Django's email backend (`EMAIL_URL`), one message to the target's addresses;
- WeCom robot: `{"msgtype": "markdown", "markdown": {"content": …}}`;
- DingTalk robot: markdown, the URL signed with `timestamp` and `sign` = Base64(HMAC-SHA256(secret,
  "timestamp\\nsecret")) when the robot has a secret;
- Feishu robot: text, with `timestamp` and `sign` = Base64(HMAC-SHA256(key="timestamp\\nsecret", msg=""))
  in the body;
- webhook: the digest as JSON, `X-Signature: sha256=<hex HMAC-SHA256 of the body>` and
  `Idempotency-Key: digest-<id>`.
A failure raises `TransportError` with what the receiver said.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass

import requests
from django.core.mail import EmailMessage, send_mail

TIMEOUT_SECONDS = 10


class TransportError(Exception):
    pass


@dataclass(frozen=True)
class Message:
    key: str  # the digest's idempotency key
    title: str
    lines: list[str]
    data: dict  # the machine-readable digest (webhooks)
    attachments: tuple = ()  # (file name, content, MIME type): sent with an email (robots get the lines)

    @property
    def text(self) -> str:
        return "\n".join([self.title, "", *self.lines])

    @property
    def markdown(self) -> str:
        return "\n".join([f"### {self.title}", "", *(f"- {line}" for line in self.lines)])


def _post(url: str, *, body: bytes, headers: dict | None = None) -> dict:
    try:
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise TransportError(f"{type(error).__name__}: {error}"[:500]) from None
    if response.status_code >= 300:
        raise TransportError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        return {}


def _robot_ok(answer: dict, *names: str) -> None:
    for name in names:
        if name in answer and answer[name] not in (0, "0"):
            raise TransportError(f"{name}={answer[name]}: {answer.get('errmsg') or answer.get('msg') or answer}"[:500])


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def send_email(channel, message: Message) -> None:
    addresses = [a.strip() for a in channel.target.replace(";", ",").split(",") if a.strip()]
    if not addresses:
        raise TransportError("no email address in the channel's target")
    try:
        if message.attachments:
            email = EmailMessage(message.title, message.text, None, addresses, attachments=list(message.attachments))
            email.send(fail_silently=False)
        else:
            send_mail(message.title, message.text, None, addresses, fail_silently=False)
    except Exception as error:  # noqa: BLE001 — any backend failure is a failed send, retried
        raise TransportError(f"{type(error).__name__}: {error}"[:500]) from None


def send_wecom(channel, message: Message) -> None:
    answer = _post(channel.target, body=_json({"msgtype": "markdown", "markdown": {"content": message.markdown}}))
    _robot_ok(answer, "errcode")


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    if not secret:
        return url
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def send_dingtalk(channel, message: Message) -> None:
    url = dingtalk_url(channel.target, channel.secret, int(time.time() * 1000))
    body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown}}
    _robot_ok(_post(url, body=_json(body)), "errcode")


def feishu_sign(secret: str, timestamp: int) -> str:
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def send_feishu(channel, message: Message) -> None:
    body = {"msg_type": "text", "content": {"text": message.text}}
    if channel.secret:
        timestamp = int(time.time())
        body = {"timestamp": str(timestamp), "sign": feishu_sign(channel.secret, timestamp), **body}
    _robot_ok(_post(channel.target, body=_json(body)), "code", "StatusCode")


def send_webhook(channel, message: Message) -> None:
    body = _json(message.data)
    headers = {"Idempotency-Key": message.key}
    if channel.secret:
        headers["X-Signature"] = "sha256=" + hmac.new(channel.secret.encode(), body, hashlib.sha256).hexdigest()
    _post(channel.target, body=body, headers=headers)


SENDERS = {
    "email": send_email,
    "wecom": send_wecom,
    "dingtalk": send_dingtalk,
    "feishu": send_feishu,
    "webhook": send_webhook,
}
