"""`scan_parcels [--now ISO]`: run every monitoring rule once and print what changed, per rule."""

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.commands import TranslatedHelpCommand
from fulfillment.importers import RowError, parse_time
from monitoring.followups import scan_follow_ups
from monitoring.services import scan_exclusive


class Command(TranslatedHelpCommand):
    help = _("Raise, upgrade and resolve alerts for every rule at one instant (default: now).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", metavar="ISO", help=_("scan as of this instant (ISO 8601; without offset: Asia/Shanghai)")
        )

    def handle(self, *args, **options):
        if options["now"]:
            try:
                now = parse_time(options["now"], "now")
            except RowError as error:
                raise CommandError(_("--now: %(error)s") % {"error": error.message}) from error
        else:
            now = timezone.now()
        report = scan_exclusive(now=now)
        scan_follow_ups(report=report)
        for line in report.lines():
            self.stdout.write(line)
        if report.skipped:
            raise CommandError(_("Another scan is running; nothing was done."), returncode=2)
