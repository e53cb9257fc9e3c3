from fulfillment.importers.reference import RegionImporter
from fulfillment.importing import ImportCommand


class Command(ImportCommand):
    help = "Import regions (province,city,is_remote); city empty = the whole province."
    importer_class = RegionImporter
