from django.utils.translation import gettext_lazy as _

from fulfillment.importing import ImportCommand
from monitoring.importers import RouteStandardImporter


class Command(ImportCommand):
    help = _("Import route standards (origin_province,dest_province,days); route deadlines are recomputed.")
    importer_class = RouteStandardImporter
