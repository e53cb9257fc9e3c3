from fulfillment.importers import ImportCommand, RegionImporter


class Command(ImportCommand):
    help = "Import regions (province,city,is_remote); city empty = the whole province."
    importer_class = RegionImporter
