"""`recompute_deadlines`: recompute every parcel's deadlines after a policy, holiday or route change."""

from django.utils.translation import gettext_lazy as _

from core.commands import TranslatedHelpCommand
from monitoring.deadlines import recompute_all_deadlines


class Command(TranslatedHelpCommand):
    help = _("Recompute the deadlines of every parcel (or only unfinished ones) from the SLA policies.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--unfinished", action="store_true", help=_("skip cancelled, delivered, returned and lost parcels")
        )

    def handle(self, *args, **options):
        count = recompute_all_deadlines(unfinished_only=options["unfinished"])
        self.stdout.write(_("Deadlines recomputed for %(count)d parcel(s).") % {"count": count})
