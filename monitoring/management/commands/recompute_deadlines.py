"""`recompute_deadlines`: recompute every parcel's deadlines after a policy, holiday or route change."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from fulfillment.models import FINISHED_STATUSES, Parcel
from monitoring.deadlines import recompute_deadlines


class Command(BaseCommand):
    help = _("Recompute the deadlines of every parcel (or only unfinished ones) from the SLA policies.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--unfinished", action="store_true", help=_("skip cancelled, delivered, returned and lost parcels")
        )

    def handle(self, *args, **options):
        parcels = Parcel.objects.all()
        if options["unfinished"]:
            parcels = parcels.exclude(status__in=FINISHED_STATUSES)
        with transaction.atomic():
            count = recompute_deadlines(parcels=parcels)
        self.stdout.write(_("Deadlines recomputed for %(count)d parcel(s).") % {"count": count})
