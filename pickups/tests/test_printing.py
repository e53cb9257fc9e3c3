"""Bag labels and handover sheets on A4 or 100 × 150 mm thermal labels, chosen per user's printer."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from pickups.barcodes import DOT_MM, QUIET_ZONE_MODULES, code128_modules, code128_svg, dot_aligned_module_mm
from pickups.models import LabelFormat, PrinterPreference
from pickups.tests.factories import ConsolidationBagFactory, HandoverSheetFactory

pytestmark = pytest.mark.django_db

THERMAL_PAGE = "@page { size: 100mm 150mm;"
A4_PAGE = "@page { size: A4;"


@pytest.fixture
def bag():
    return ConsolidationBagFactory()


def label_url(bag):
    return reverse("admin:pickups_consolidationbag_label", args=[bag.pk])


def sheet_url(sheet):
    return reverse("admin:pickups_handoversheet_print", args=[sheet.pk])


def module_mm_of(html: str) -> Decimal:
    return Decimal(re.search(r'data-module-mm="([0-9.]+)"', html).group(1))


def test_the_bag_label_prints_on_a4_by_default_and_on_a_thermal_label_on_request(warehouse_client, bag):
    a4 = warehouse_client.get(label_url(bag)).content.decode()
    assert A4_PAGE in a4 and THERMAL_PAGE not in a4 and "label-a4" in a4

    thermal = warehouse_client.get(label_url(bag), {"format": "thermal_100x150"}).content.decode()
    assert "@page { size: 100mm 150mm; margin: 0; }" in thermal and A4_PAGE not in thermal
    assert "label-thermal_100x150" in thermal and bag.number in thermal


def test_the_handover_sheet_prints_on_a4_or_on_thermal_labels(warehouse_client, bag):
    sheet = HandoverSheetFactory(shop=bag.shop)
    a4 = warehouse_client.get(sheet_url(sheet)).content.decode()
    assert A4_PAGE in a4 and THERMAL_PAGE not in a4
    thermal = warehouse_client.get(sheet_url(sheet), {"format": "thermal_100x150"}).content.decode()
    assert "@page { size: 100mm 150mm; margin: 4mm; }" in thermal and sheet.number in thermal


def test_the_thermal_barcode_is_sized_in_whole_203_dpi_dots(warehouse_client, bag):
    html = warehouse_client.get(label_url(bag), {"format": "thermal_100x150"}).content.decode()
    module = module_mm_of(html)
    assert module % DOT_MM == 0 and Decimal("0.25") <= module <= Decimal("0.5")
    modules = len(code128_modules(bag.number)) + 2 * QUIET_ZONE_MODULES
    width = Decimal(re.search(r'<svg[^>]* width="([0-9.]+)mm"', html).group(1))
    assert width == module * modules and width <= 88  # fits the label's printable 88 mm
    offset = Decimal(re.search(r"margin-left:([0-9.]+)mm", html).group(1))
    assert offset % DOT_MM == 0  # the first bar starts on a dot as well
    assert 'shape-rendering="crispEdges"' in html


def test_the_module_is_the_widest_whole_number_of_dots_that_fits():
    assert dot_aligned_module_mm(150, Decimal(88)) == Decimal("0.500")  # 4 dots: 75 mm
    assert dot_aligned_module_mm(300, Decimal(88)) == Decimal("0.250")  # 2 dots: 75 mm (3 would be 112.5)
    assert dot_aligned_module_mm(1000, Decimal(88)) == DOT_MM  # never less than one dot
    svg = str(code128_svg("SZ1", available_mm=Decimal(88), height_mm=Decimal(20)))
    assert 'height="20mm"' in svg and "viewBox" in svg


def test_the_preference_is_saved_per_user_from_the_label_page(warehouse_client, warehouse_user, manager_user, bag):
    page = warehouse_client.get(label_url(bag)).content.decode()
    mine = reverse("admin:pickups_printerpreference_mine")
    assert f'action="{mine}"' in page and 'value="thermal_100x150"' in page

    response = warehouse_client.post(mine, {"label_format": "thermal_100x150", "next": label_url(bag)})

    assert response.status_code == 302 and response["Location"] == label_url(bag)
    assert PrinterPreference.objects.get(user=warehouse_user).label_format == LabelFormat.THERMAL_100X150
    assert THERMAL_PAGE in warehouse_client.get(label_url(bag)).content.decode()
    assert A4_PAGE in warehouse_client.get(label_url(bag), {"format": "a4"}).content.decode()  # the URL overrides
    manager = Client()
    manager.force_login(manager_user)
    assert A4_PAGE in manager.get(label_url(bag)).content.decode()  # another user's printer is theirs
    assert not PrinterPreference.objects.filter(user=manager_user).exists()


def test_the_preference_switch_refuses_a_get_an_unknown_format_and_a_foreign_redirect(warehouse_client, warehouse_user):
    mine = reverse("admin:pickups_printerpreference_mine")
    assert warehouse_client.get(mine).status_code == 405
    assert warehouse_client.post(mine, {"label_format": "a3"}).status_code == 400
    response = warehouse_client.post(mine, {"label_format": "a4", "next": "https://evil.example.com/"})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert PrinterPreference.objects.get(user=warehouse_user).label_format == LabelFormat.A4


def test_the_label_names_the_sorting_centre_it_goes_to_in_chinese(warehouse_client, bag):
    """"to Shenzhen" once read "新状态 深圳": the label's "to" was the history's "to" (the new status)."""
    warehouse_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/admin/"})
    html = warehouse_client.get(label_url(bag)).content.decode()
    assert "发往" in html and "新状态" not in html
