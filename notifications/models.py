"""Channels that want alerts, the (channel, alert, level) claims, the digests that carry them, and
the lists of parcels sent to a courier outlet (`OutletDispatch`).

Exactly once: a `ChannelAlert` row is the claim that a channel is told about an alert at a level
(unique on the three), written in the same transaction that puts it into one `Digest`; a digest is
sent by a task that is acknowledged only after it ran (a worker that dies mid-send leaves it to be
delivered again) and marked sent under a row lock, so it is never sent twice by two workers, and a
digest marked sent is never sent again. Receivers get the digest's id as an idempotency key.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment.models import CarrierOutlet, Shop
from monitoring.models import Alert, AlertKind, AlertLevel, ShopAlert, ShopAlertKind


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("email")
    WECOM = "wecom", _("WeCom robot")
    DINGTALK = "dingtalk", _("DingTalk robot")
    FEISHU = "feishu", _("Feishu robot")
    WEBHOOK = "webhook", _("webhook")


class NotificationChannel(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    target = models.TextField(
        _("target"), help_text=_("Email addresses separated by commas, or the robot's / webhook's URL.")
    )
    secret = models.CharField(
        _("secret"), max_length=200, blank=True,
        help_text=_("DingTalk and Feishu: the robot's signing secret; webhook: the HMAC-SHA256 key of X-Signature."),
    )  # fmt: skip
    shops = models.ManyToManyField(Shop, blank=True, verbose_name=_("shops"), help_text=_("None: every shop."))
    alert_kinds = models.JSONField(
        _("alert kinds"), default=list, blank=True, help_text=_("Codes of the alert kinds (order_spike: unusual order volume); empty: every kind.")
    )
    min_level = models.CharField(_("minimum level"), max_length=16, choices=AlertLevel.choices, default=AlertLevel.WARNING)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        unknown = sorted(set(self.alert_kinds or []) - set(AlertKind.values) - set(ShopAlertKind.values))
        if unknown:
            raise ValidationError({"alert_kinds": _("Unknown alert kinds: %(kinds)s") % {"kinds": ", ".join(unknown)}})


class DigestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed (gave up)")


class Digest(models.Model):
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="digests", verbose_name=_("channel"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=16, choices=DigestStatus.choices, default=DigestStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # A worker sending the digest holds it until then; one that died mid-send lets it go at that time.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="digest_pending_idx"),
        ]

    def __str__(self):
        return f"{self.channel} #{self.pk}"


class ChannelAlert(models.Model):
    """A channel is (to be) told about an alert at a level: at most one such row, in one digest."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16, choices=AlertLevel.choices)
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "alert", "level"], name="channel_alert_level_once"),
        ]

    def __str__(self):
        return f"{self.channel_id}/{self.alert_id}/{self.level}"


class OutletDispatch(models.Model):
    """An outlet sent its own stalled and overdue parcels from the scorecard: who, what, when.

    What is sent is frozen when the manager confirms (the parcel ids, the lines, the CSV and the
    channel), so a retry sends the same list. `token` is the confirm form's idempotency key: two
    clicks of the button post the same token and make one dispatch. Sent like a digest: claimed for
    a while (`claimed_until`) before sending, marked sent once, retried with backoff."""

    outlet = models.ForeignKey(
        CarrierOutlet, on_delete=models.PROTECT, related_name="dispatches", verbose_name=_("courier outlet")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("sent by")
    )
    token = models.UUIDField(_("idempotency token"), unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    target = models.TextField(_("target"))
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans")
    parcel_count = models.PositiveIntegerField(_("parcels"), default=0)
    parcel_ids = models.JSONField(_("parcel ids"), default=list, blank=True)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    csv = models.TextField(_("CSV"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=DigestStatus.choices, default=DigestStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("outlet dispatch")
        verbose_name_plural = _("outlet dispatches")
        ordering = ["-created_at", "-pk"]
        permissions = [("send_outletdispatch", _("Can send an outlet its parcels"))]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outlet_dispatch_pending_idx"),
        ]

    def __str__(self):
        return f"{self.outlet} #{self.pk}"


class ChannelShopAlert(models.Model):
    """A channel is (to be) told about a shop alert (an unusual day of orders): once, in one digest."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="+")
    shop_alert = models.ForeignKey(ShopAlert, on_delete=models.CASCADE, related_name="+")
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="shop_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "shop_alert"], name="channel_shop_alert_once")]

    def __str__(self):
        return f"{self.channel_id}/shop alert {self.shop_alert_id}"
