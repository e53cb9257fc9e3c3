from fulfillment.importers.orders import OrderImporter
from fulfillment.importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import orders, one parcel per row (platform,shop_code,order_id,paid_at,amount,seller_tier,origin_province,"
        "dest_province,dest_city,carrier_code,tracking_no,shipped_at,rts_at)."
    )
    importer_class = OrderImporter
