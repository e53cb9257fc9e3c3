"""What the operators' commands leave behind: a record of each import run, and of each month of
tracking events archived (`archive_events`). Models of the fulfillment app, imported by its `models`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    """One run of an import command: what it read and did, and where its error report is."""

    command = models.CharField(_("command"), max_length=64)
    source = models.CharField(_("file"), max_length=500)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    rows_read = models.PositiveIntegerField(_("read"), default=0)
    rows_inserted = models.PositiveIntegerField(_("inserted"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error_report = models.CharField(_("error report"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.command} {self.source}"


class EventArchive(models.Model):
    """A month of tracking events exported to a file and removed from the database (retention)."""

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month archived."))
    path = models.CharField(_("file"), max_length=500)
    events = models.PositiveIntegerField(_("events"))
    archived_at = models.DateTimeField(_("archived at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event archive")
        verbose_name_plural = _("event archives")
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%Y-%m} → {self.path}"
