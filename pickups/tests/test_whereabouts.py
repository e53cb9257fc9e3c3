"""The parcel's admin page says where the parcel is: its bag, its handover sheet and the bag's pickup."""

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import ShopFactory
from pickups import services
from pickups.tests.factories import parcels_for
from pickups.tests.test_services import covered, open_bag, sealed_bag, sheet_for  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def parcel_page(client, parcel) -> str:
    response = client.get(reverse("admin:fulfillment_parcel_change", args=[parcel.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("field-whereabouts") :][:1500]


def test_the_parcel_page_links_its_bag_then_its_sheet_then_says_when_the_bag_was_picked_up(
    warehouse_client,
    covered,  # noqa: F811
):
    shop = ShopFactory(code="acme", timezone="Asia/Shanghai")
    (loose,) = parcels_for(shop, 1)
    assert "In no bag and on no handover sheet." in parcel_page(warehouse_client, loose)

    bag = sealed_bag(shop, parcels=1)
    parcel = bag.items.get().parcel
    shown = parcel_page(warehouse_client, parcel)
    assert reverse("admin:pickups_consolidationbag_change", args=[bag.pk]) in shown and bag.number in shown

    sheet = services.handover_sheet_book(sheet=sheet_for(shop, bags=[bag]), by=None)
    shown = parcel_page(warehouse_client, parcel)
    assert reverse("admin:pickups_handoversheet_change", args=[sheet.pk]) in shown and sheet.number in shown
    assert "picked up at" not in shown

    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="王师傅")
    bag.refresh_from_db()
    shown = parcel_page(warehouse_client, parcel)
    local = timezone.localtime(bag.picked_up_at, timezone.get_fixed_timezone(480))
    assert "picked up at" in shown and local.strftime("%H:%M") in shown


def test_a_loose_parcel_on_a_sheet_links_the_sheet(warehouse_client, covered):  # noqa: F811
    shop = ShopFactory(code="acme")
    (loose,) = parcels_for(shop, 1)
    sheet = sheet_for(shop, parcels=[loose])
    shown = parcel_page(warehouse_client, loose)
    assert sheet.number in shown and "In bag" not in shown
