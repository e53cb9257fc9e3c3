from fulfillment.importing import ImportCommand
from pickups.importers import CoverageImporter


class Command(ImportCommand):
    help = "Import official pickup coverage (province,city); city empty = the whole province."
    importer_class = CoverageImporter
