from fulfillment.importers.events import EventImporter
from fulfillment.importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import tracking events (carrier_code,tracking_no,code,occurred_at,location,description,outlet_code); "
        "milestones and status of the parcels follow."
    )
    importer_class = EventImporter
