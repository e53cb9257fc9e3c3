"""`event_partitions [--ahead N] [--month YYYY-MM …]`: the tracking events' monthly partitions."""

import re

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import TranslatedHelpCommand
from core.db import partitions
from fulfillment.partitioning import AHEAD_MONTHS, event_partitions_ensure, events_table, months_in_default

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> partitions.Month:
    found = MONTH.match(text or "")
    if not found or not (2000 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12):
        raise CommandError(_("%(value)s is not a month between 2000-01 and 2100-12 (YYYY-MM).") % {"value": text})
    return int(found[1]), int(found[2])


class Command(TranslatedHelpCommand):
    help = gettext_lazy(
        "PostgreSQL: create the tracking events' monthly partitions (this month and the next ones, the given "
        "months, and every month whose events wait in the default partition). SQLite: nothing to do."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=AHEAD_MONTHS, help=gettext_lazy("months ahead (default 3)"))
        parser.add_argument("--month", action="append", default=[], metavar="YYYY-MM", help=gettext_lazy("also this month"))

    def handle(self, *args, **options):
        if not 0 <= options["ahead"] <= 24:
            raise CommandError(_("--ahead must be between 0 and 24."))
        months = [parse_month(text) for text in options["month"]]
        if not partitions.is_partitioned(events_table()):
            self.stdout.write(_("The tracking events are not partitioned on this database (SQLite): nothing to do."))
            return
        created = event_partitions_ensure(ahead=options["ahead"], months=months)
        for year, month in created:
            self.stdout.write(_("created the partition of %(month)s") % {"month": f"{year:04d}-{month:02d}"})
        have = partitions.months(events_table())
        self.stdout.write(
            _("%(count)s monthly partitions (%(first)s … %(last)s); months still in the default partition: %(waiting)s")
            % {
                "count": len(have),
                "first": f"{have[0][0]:04d}-{have[0][1]:02d}" if have else "—",
                "last": f"{have[-1][0]:04d}-{have[-1][1]:02d}" if have else "—",
                "waiting": ", ".join(f"{y:04d}-{m:02d}" for y, m in months_in_default()) or _("none"),
            }
        )
