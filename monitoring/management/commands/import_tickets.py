from django.utils.translation import gettext_lazy as _

from fulfillment.importing import ImportCommand
from monitoring.importers import TicketImporter


class Command(ImportCommand):
    help = _(
        "Import stagnation tickets and false sign-off complaints "
        "(platform,order_id,tracking_no,opened_at,kind; kind: stagnation or false_signoff)."
    )
    importer_class = TicketImporter
