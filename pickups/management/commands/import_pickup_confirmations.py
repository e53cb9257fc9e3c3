from fulfillment.importing import ImportCommand
from pickups.importers import PickupConfirmationImporter


class Command(ImportCommand):
    help = "Record pickup agents' confirmations (sheet_number,picked_up_at,agent) of booked handover sheets."
    importer_class = PickupConfirmationImporter
