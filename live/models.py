"""Tracking pushes (DESIGN.md "Live data: pushes in"): who may push (`PushSource`), what each push
said (`PushDelivery`, the raw body kept first, whatever happens next) and how a source kind's words
translate to ours (`CarrierCodeMapping`, `StatusWordMapping`: editable rows, seeded by a migration)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from fulfillment.vocabulary import EventCode


class SourceKind(models.TextChoices):
    GENERIC = "generic", _("Generic (JSON array, HMAC-SHA256 header)")
    KUAIDI100 = "kuaidi100", _("Kuaidi100 subscription push")
    KDNIAO = "kdniao", _("Kdniao track push (101)")


class PushSource(models.Model):
    """A sender of pushes, addressed as `POST /api/v1/push/<name>/` and verified with `secret`."""

    name = models.SlugField(_("name"), max_length=64, unique=True, help_text=_("The last part of the push URL."))
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices, default=SourceKind.GENERIC)
    secret = models.CharField(
        _("secret"), max_length=200, help_text=_("The key the sender signs with (kuaidi100: salt; kdniao: API key).")
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("An inactive source is refused (404)."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("push source")
        verbose_name_plural = _("push sources")

    def __str__(self):
        return self.name


class PushDelivery(models.Model):
    """One push as it arrived. `processed_at` stays empty until its entries were applied; a delivery
    left unprocessed by a failure is processed again from `body` (`process_pushes`)."""

    source = models.ForeignKey(PushSource, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("source"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    body = models.TextField(_("body"), blank=True)
    verified = models.BooleanField(_("signature verified"), default=False)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    # {"entries": n, "inserted": n, "unchanged": n, "rejected": n, "errors": [{"entry", "ref", "field",
    # "message"}]} once processed; {"failure": "...", "attempts": n} after a failed attempt.
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("push delivery")
        verbose_name_plural = _("push deliveries")
        permissions = [("process_pushdelivery", _("Can process push deliveries again"))]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="push_unprocessed_idx",
                condition=models.Q(verified=True, processed_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.source} #{self.pk}"


class CarrierCodeMapping(models.Model):
    """A source kind's carrier code (kuaidi100 `com`, kdniao `ShipperCode`) → our `Carrier.code`."""

    kind = models.CharField(_("source kind"), max_length=16, choices=SourceKind.choices)
    their_code = models.CharField(_("their code"), max_length=64)
    carrier_code = models.CharField(_("our carrier code"), max_length=32)

    class Meta:
        ordering = ["kind", "their_code"]
        verbose_name = _("carrier code mapping")
        verbose_name_plural = _("carrier code mappings")
        constraints = [models.UniqueConstraint(fields=["kind", "their_code"], name="carrier_mapping_unique")]

    def __str__(self):
        return f"{self.kind}: {self.their_code} → {self.carrier_code}"


class StatusWordMapping(models.Model):
    """A source kind's status word (kuaidi100 `status`, kdniao `Action`) → our event code; a word
    without a row is `info`."""

    kind = models.CharField(_("source kind"), max_length=16, choices=SourceKind.choices)
    word = models.CharField(_("their status word"), max_length=64)
    code = models.CharField(_("our event code"), max_length=32, choices=EventCode.choices)

    class Meta:
        ordering = ["kind", "word"]
        verbose_name = _("status word mapping")
        verbose_name_plural = _("status word mappings")
        constraints = [models.UniqueConstraint(fields=["kind", "word"], name="status_mapping_unique")]

    def __str__(self):
        return f"{self.kind}: {self.word} → {self.code}"
