"""API clients and the record of their writes.

A client acts as a user (`acts_as`): that user's model permissions and shops (`fulfillment.access`)
bound what the client may do, exactly as in the admin; its scopes (read, write) bound it further.
Only a hash of the key is stored: the key itself is shown once, when it is issued.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiClient(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True, help_text=_("e.g. the ERP's name"))
    acts_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_clients",
        verbose_name=_("acts as user"),
        help_text=_("The client has this user's permissions and shops, never more."),
    )
    can_read = models.BooleanField(_("read scope"), default=True)
    can_write = models.BooleanField(_("write scope"), default=False)
    active = models.BooleanField(_("active"), default=True)
    key_prefix = models.CharField(_("key prefix"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiWrite(models.Model):
    """One write request of a client: what it asked and what it got."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="writes", verbose_name=_("client"))
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=300)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("API write")
        verbose_name_plural = _("API writes")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.client} {self.method} {self.path} {self.status_code}"
