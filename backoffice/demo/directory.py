"""What no importer or service sets, created once before the week starts.

`import_orders` creates an unknown shop with its code as its name, an unknown carrier with its code,
and `import_events` an unknown outlet with no name: enough for the rules, too bare for the pages.
So the demo creates the three shops with their names and pickup addresses (the handover sheets'
pickup address and coverage check read them), the carriers with their names, and the outlets with
their names, places, last month's star rating (DESIGN.md: imported monthly, no importer yet) and,
for three of them, a contact.
Nothing else is written here; every later row goes through an importer or a service.
"""

from __future__ import annotations

import datetime

from fulfillment.models import Carrier, CarrierOutlet, Shop

from .world import CARRIERS, OUTLET_CONTACTS, OUTLETS, SHANGHAI, SHOPS


def create_directory(now: datetime.datetime) -> dict[str, Shop]:
    """The demo shops (with pickup details), carriers and outlets; returns the shops by code."""
    Shop.objects.bulk_create(
        [
            Shop(
                code=s.code,
                name=s.name,
                platform=s.platform,
                seller_tier=s.seller_tier,
                pickup_address=s.address,
                pickup_province=s.province,
                pickup_city=s.city,
            )
            for s in SHOPS
        ]
    )
    Carrier.objects.bulk_create(
        [Carrier(code=code, name=name) for code, (name, _prefix, _digits) in CARRIERS.items()], ignore_conflicts=True
    )
    carriers = {c.code: c for c in Carrier.objects.filter(code__in=CARRIERS)}
    first_of_month = now.astimezone(SHANGHAI).date().replace(day=1)
    rating_month = (first_of_month - datetime.timedelta(days=1)).replace(day=1)
    CarrierOutlet.objects.bulk_create(
        [
            CarrierOutlet(
                carrier=carriers[carrier],
                code=code,
                name=name,
                province=province,
                city=city,
                star_rating=stars,
                rating_month=rating_month,
                contact_name=OUTLET_CONTACTS.get(code, ("", "", ""))[0],
                contact_phone=OUTLET_CONTACTS.get(code, ("", "", ""))[1],
                contact_email=OUTLET_CONTACTS.get(code, ("", "", ""))[2],
            )
            for carrier, code, name, province, city, stars in OUTLETS
        ],
        ignore_conflicts=True,
    )
    return {shop.code: shop for shop in Shop.objects.filter(code__in=[s.code for s in SHOPS])}
