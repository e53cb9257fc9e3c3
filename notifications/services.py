"""Digests: collected after each scan, sent once, retried with backoff.

`digests_collect` puts every alert raised or upgraded for a channel since it exists, and not yet
claimed for that channel at its current level, into one new digest of that channel (the claim and
the digest are one transaction, under the channel's row lock). `digest_send` claims a pending digest
for a while (`claimed_until`, committed before anything is sent), sends it and marks it sent; a
failure schedules the next attempt (1, 2, 4 … minutes, at most an hour) until `MAX_ATTEMPTS`, and a
worker that died mid-send lets the claim run out, so the digest is sent later, once.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.admin import in_shop_time
from monitoring.models import Alert, AlertLevel, ShopAlert

from .models import ChannelAlert, ChannelShopAlert, Digest, DigestStatus, NotificationChannel
from .transports import SENDERS, Message, TransportError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
CLAIM_SECONDS = 120
MAX_ALERTS_PER_DIGEST = 500
LINES_SHOWN = 50


def _wanted_alerts(channel: NotificationChannel):
    alerts = Alert.objects.filter(resolved_at__isnull=True).filter(
        Q(raised_at__gte=channel.created_at) | Q(escalated_at__gte=channel.created_at)
    )
    if channel.min_level == AlertLevel.OVERDUE:
        alerts = alerts.filter(level=AlertLevel.OVERDUE)
    if channel.alert_kinds:
        alerts = alerts.filter(kind__in=channel.alert_kinds)
    shop_ids = list(channel.shops.values_list("pk", flat=True))
    if shop_ids:
        alerts = alerts.filter(parcel__shop_id__in=shop_ids)
    claimed = ChannelAlert.objects.filter(channel=channel, alert=OuterRef("pk"), level=OuterRef("level"))
    return alerts.filter(~Exists(claimed)).order_by("pk")


def _wanted_shop_alerts(channel: NotificationChannel):
    """Unreviewed shop alerts (unusual order volume) raised since the channel exists, not yet claimed
    for it. They count as warnings: a channel that wants only overdue alerts does not get them."""
    if channel.min_level == AlertLevel.OVERDUE:
        return ShopAlert.objects.none()
    alerts = ShopAlert.objects.filter(resolved_at__isnull=True, raised_at__gte=channel.created_at)
    if channel.alert_kinds:
        alerts = alerts.filter(kind__in=channel.alert_kinds)
    shop_ids = list(channel.shops.values_list("pk", flat=True))
    if shop_ids:
        alerts = alerts.filter(shop_id__in=shop_ids)
    claimed = ChannelShopAlert.objects.filter(channel=channel, shop_alert=OuterRef("pk"))
    return alerts.filter(~Exists(claimed)).order_by("pk")


def digest_collect(*, channel: NotificationChannel) -> Digest | None:
    """The channel's new digest of what it was not told yet, or None when there is nothing new."""
    with transaction.atomic():
        channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
        alerts = list(_wanted_alerts(channel).values_list("pk", "level")[:MAX_ALERTS_PER_DIGEST])
        shop_alerts = list(_wanted_shop_alerts(channel).values_list("pk", flat=True)[:MAX_ALERTS_PER_DIGEST])
        if not alerts and not shop_alerts:
            return None
        digest = Digest.objects.create(
            channel=channel, alert_count=len(alerts) + len(shop_alerts), next_attempt_at=timezone.now()
        )
        ChannelAlert.objects.bulk_create(
            [ChannelAlert(channel=channel, alert_id=pk, level=level, digest=digest) for pk, level in alerts]
        )
        ChannelShopAlert.objects.bulk_create(
            [ChannelShopAlert(channel=channel, shop_alert_id=pk, digest=digest) for pk in shop_alerts]
        )
    return digest


def digests_collect(*, now: datetime.datetime | None = None) -> list[Digest]:
    """A digest for each active channel with something new (after each scan)."""
    digests = []
    for channel in NotificationChannel.objects.filter(active=True).order_by("pk"):
        digest = digest_collect(channel=channel)
        if digest is not None:
            digests.append(digest)
    return digests


def claim_for_sending(model, pk: int, now: datetime.datetime) -> bool:
    """Hold a pending digest (or outlet dispatch) for NOTIFICATION_CLAIM_SECONDS, committed before
    anything is sent: False when it is sent, given up, or held by a live worker."""
    claimed = model.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=pk,
        status=DigestStatus.PENDING,
    ).update(claimed_until=now + datetime.timedelta(seconds=getattr(settings, "NOTIFICATION_CLAIM_SECONDS", CLAIM_SECONDS)))
    return claimed == 1


def record_failure(model, pk: int, *, attempts: int, error: Exception, now: datetime.datetime) -> bool:
    """A failed send: the next attempt after the backoff, or given up after MAX_ATTEMPTS (True)."""
    gave_up = attempts >= MAX_ATTEMPTS
    model.objects.filter(pk=pk).update(
        attempts=attempts,
        last_error=str(error)[:2000],
        status=DigestStatus.FAILED if gave_up else DigestStatus.PENDING,
        next_attempt_at=None if gave_up else now + backoff(attempts),
        claimed_until=None,
    )
    return gave_up


def record_sent(model, pk: int, *, attempts: int) -> None:
    model.objects.filter(pk=pk).update(
        status=DigestStatus.SENT, sent_at=timezone.now(), attempts=attempts, last_error="", claimed_until=None
    )


def digest_message(digest: Digest) -> Message:
    """The digest in the channel's language: a title with the counts, a line per alert (the first
    `LINES_SHOWN`), and the machine-readable list for webhooks."""
    items = list(
        ChannelAlert.objects.filter(digest=digest)
        .select_related("alert__parcel__shop", "alert__parcel__carrier")
        .order_by("-level", "alert__due_at", "pk")
    )
    spikes = [item.shop_alert for item in digest.shop_items.select_related("shop_alert__shop").order_by("pk")]
    with translation.override(digest.channel.language):
        overdue = sum(item.level == AlertLevel.OVERDUE for item in items)
        count = len(items) + len(spikes)
        title = ngettext(
            "Parcel Control: %(count)d alert (%(overdue)d overdue)",
            "Parcel Control: %(count)d alerts (%(overdue)d overdue)",
            count,
        ) % {"count": count, "overdue": overdue}
        lines = [_spike_line(spike) for spike in spikes] + [_line(item) for item in items[:LINES_SHOWN]]
        if len(items) > LINES_SHOWN:
            lines.append(_("… and %(count)d more in the stalled-parcels dashboard.") % {"count": len(items) - LINES_SHOWN})
    data = {
        "digest": digest.pk,
        "channel": digest.channel.name,
        "alerts": [
            {
                "id": item.alert_id,
                "kind": item.alert.kind,
                "level": item.level,
                "tracking_no": item.alert.parcel.tracking_no,
                "carrier": item.alert.parcel.carrier.code if item.alert.parcel.carrier else None,
                "shop": item.alert.parcel.shop.code,
                "due_at": item.alert.due_at.isoformat() if item.alert.due_at else None,
            }
            for item in items
        ],
        "shop_alerts": [
            {"id": spike.pk, "kind": spike.kind, "shop": spike.shop.code, "day": spike.day.isoformat(),
             "orders": spike.orders, "median": str(spike.median)}
            for spike in spikes
        ],
    }
    return Message(key=f"digest-{digest.pk}", title=title, lines=lines, data=data)


def _line(item: ChannelAlert) -> str:
    alert, parcel = item.alert, item.alert.parcel
    due = in_shop_time(alert.due_at, parcel.shop) or "—"
    return _("%(level)s · %(kind)s · %(carrier)s %(tracking)s · %(shop)s · due %(due)s") % {
        "level": AlertLevel(item.level).label,
        "kind": alert.get_kind_display(),
        "carrier": parcel.carrier.code if parcel.carrier else "",
        "tracking": parcel.tracking_no or "—",
        "shop": parcel.shop,
        "due": due,
    }


def _spike_line(spike: ShopAlert) -> str:
    return _("%(kind)s · %(shop)s · %(day)s: %(orders)d paid orders (median %(median)s) — review before marking ready to ship") % {
        "kind": spike.get_kind_display(),
        "shop": spike.shop,
        "day": spike.day.isoformat(),
        "orders": spike.orders,
        "median": spike.median.normalize(),
    }


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def digest_send(*, digest_id: int, now: datetime.datetime | None = None) -> str:
    """Send one digest unless it is sent, given up, not yet due, or held by another worker. Returns
    what happened: "sent", "failed" (retried later), "gave up" or "skipped"."""
    now = now or timezone.now()
    if not claim_for_sending(Digest, digest_id, now):
        return "skipped"
    digest = Digest.objects.select_related("channel").get(pk=digest_id)
    try:
        SENDERS[digest.channel.kind](digest.channel, digest_message(digest))
    except TransportError as error:
        attempts = digest.attempts + 1
        gave_up = record_failure(Digest, digest_id, attempts=attempts, error=error, now=now)
        logger.warning("Digest %s to %s failed (attempt %d): %s", digest_id, digest.channel, attempts, error)
        return "gave up" if gave_up else "failed"
    record_sent(Digest, digest_id, attempts=digest.attempts + 1)
    return "sent"


def due_ids(model, *, now: datetime.datetime) -> list[int]:
    """Pending digests (or outlet dispatches) whose next attempt is due and that no live worker holds."""
    return list(
        model.objects.filter(status=DigestStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


def retry_now(model, pk: int) -> None:
    """From the admin: try a pending or given-up digest (or outlet dispatch) again at once."""
    model.objects.filter(pk=pk).exclude(status=DigestStatus.SENT).update(
        status=DigestStatus.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )


def due_digest_ids(*, now: datetime.datetime) -> list[int]:
    return due_ids(Digest, now=now)


def digest_retry_now(*, digest: Digest) -> None:
    retry_now(Digest, digest.pk)
