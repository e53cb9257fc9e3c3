"""`archive_events --month YYYY-MM --to DIR [--dry-run]`: export a month of events, then let it go."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import TranslatedHelpCommand
from fulfillment.management.commands.event_partitions import parse_month
from fulfillment.retention import events_archive_month


class Command(TranslatedHelpCommand):
    help = gettext_lazy(
        "Export a month of tracking events to DIR/events-YYYY-MM.jsonl.gz (import_events reads it back), then "
        "remove them (PostgreSQL: drop the month's partition). Refused while a parcel with events in that month "
        "is unfinished or has an open complaint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, metavar="YYYY-MM")
        parser.add_argument("--to", required=True, metavar="DIR", help=gettext_lazy("folder of the archive file"))
        parser.add_argument("--dry-run", action="store_true", help=gettext_lazy("check and count, change nothing"))

    def handle(self, *args, **options):
        month = parse_month(options["month"])
        try:
            result = events_archive_month(month=month, directory=Path(options["to"]), dry_run=options["dry_run"])
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages), returncode=2) from None
        if options["dry_run"]:
            self.stdout.write(
                _("[dry run] %(count)s events of %(month)s would go to %(path)s")
                % {"count": result.events, "month": options["month"], "path": result.path}
            )
            return
        self.stdout.write(
            _("%(count)s events of %(month)s archived to %(path)s and removed from the database")
            % {"count": result.events, "month": options["month"], "path": result.path}
        )
