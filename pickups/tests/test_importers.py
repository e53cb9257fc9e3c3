import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from fulfillment.models import ParcelStatus
from fulfillment.tests.factories import CarrierFactory, ShopFactory
from pickups import services
from pickups.models import BagStatus, PickupCoverage, SheetStatus
from pickups.tests.factories import PickupCoverageFactory, parcels_for

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
pytestmark = pytest.mark.django_db


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_coverage_counts_and_is_idempotent(tmp_path, capsys):
    path = write(tmp_path, "coverage.csv", "province,city\n浙江省,\n广东省,深圳市\n广东省,广州市\n,东莞市\n", "gb18030")
    with pytest.raises(CommandError):
        call_command("import_coverage", path, errors=str(tmp_path / "err.csv"))
    assert set(PickupCoverage.objects.values_list("province", "city")) == {
        ("浙江省", ""),
        ("广东省", "深圳市"),
        ("广东省", "广州市"),
    }
    errors = (tmp_path / "err.csv").read_text(encoding="utf-8-sig")
    assert "5,province," in errors
    # Re-running inserts nothing.
    path = write(tmp_path, "again.csv", "province,city\n浙江省,\n广东省,深圳市\n")
    call_command("import_coverage", path)
    assert "inserted 0" in capsys.readouterr().out
    assert PickupCoverage.objects.count() == 3


@pytest.fixture
def booked():
    PickupCoverageFactory(province="浙江省", city="")
    shop = ShopFactory(code="acme")

    def make(book=True):
        # The sheets were built and booked the morning of the file's pickups (2026-11-25 09:15).
        with time_machine.travel(datetime.datetime(2026, 11, 25, 7, 0, tzinfo=SHANGHAI), tick=False):
            return make_now(book)

    def make_now(book):
        bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
        bag.gross_weight_kg, bag.length_cm, bag.width_cm, bag.height_cm = 10, 50, 40, 30
        bag.save()
        parcels = parcels_for(shop, 2)
        services.bag_add_parcels(bag=bag, tracking_numbers=[p.tracking_no for p in parcels], by=None)
        services.bag_seal(bag=bag, by=None)
        loose = parcels_for(shop, 1)
        sheet = services.handover_sheet_create(
            shop=shop,
            carrier=CarrierFactory(code="YTO"),
            pickup_address="x",
            pickup_province="浙江省",
            pickup_city="杭州市",
            window_start=timezone.now() - datetime.timedelta(hours=3),
            window_end=timezone.now() - datetime.timedelta(hours=1),
            bags=[bag],
            parcels=loose,
            by=None,
        )
        if book:
            sheet = services.handover_sheet_book(sheet=sheet, by=None)
        return sheet, bag, loose[0]

    return make


def test_import_pickup_confirmations(tmp_path, booked, capsys):
    sheet, bag, loose = booked()
    draft_sheet, *_ = booked(book=False)
    cancelled = services.handover_sheet_cancel(sheet=booked()[0], by=None, reason="rain")
    path = write(
        tmp_path,
        "confirmations.csv",
        "sheet_number,picked_up_at,agent\n"
        f"{sheet.number},2026-11-25 09:15,王师傅 YT-0931\n"
        f"{sheet.number},2026-11-25 09:15,王师傅 YT-0931\n"
        "HS-NOPE,2026-11-25 09:15,A\n"
        f"{cancelled.number},2026-11-25 09:15,A\n"
        f"{draft_sheet.number},2026-11-25 09:15,A\n"
        f"{sheet.number},not a time,A\n",
    )
    errors = tmp_path / "errors.csv"
    with pytest.raises(CommandError):
        call_command("import_pickup_confirmations", path, errors=str(errors))
    out = capsys.readouterr().out
    assert "updated 1" in out and "unchanged 1" in out and "rejected 4" in out

    sheet.refresh_from_db()
    bag.refresh_from_db()
    loose.refresh_from_db()
    expected = datetime.datetime(2026, 11, 25, 1, 15, tzinfo=datetime.UTC)  # 09:15 in Shanghai
    assert (sheet.status, sheet.picked_up_at, sheet.pickup_agent) == (SheetStatus.PICKED_UP, expected, "王师傅 YT-0931")
    assert (bag.status, bag.picked_up_at) == (BagStatus.PICKED_UP, expected)
    assert (loose.status, loose.picked_up_at) == (ParcelStatus.PICKED_UP, expected)

    report = errors.read_text(encoding="utf-8-sig")
    assert "4,sheet_number,unknown handover sheet" in report
    assert "5,sheet_number," in report and "cancelled" in report
    assert "6,sheet_number," in report and "book it" in report
    assert "7,picked_up_at," in report

    # Re-running the good line changes nothing; a contradicting time is rejected.
    again = write(
        tmp_path, "again.csv", f"sheet_number,picked_up_at,agent\n{sheet.number},2026-11-25T09:15:00+08:00,X\n"
    )
    call_command("import_pickup_confirmations", again)
    assert "unchanged 1" in capsys.readouterr().out
    other = write(tmp_path, "other.csv", f"sheet_number,picked_up_at,agent\n{sheet.number},2026-11-25 10:00,X\n")
    with pytest.raises(CommandError):
        call_command("import_pickup_confirmations", other, errors=str(errors))
    assert "already recorded as picked up" in errors.read_text(encoding="utf-8-sig")


def test_a_future_pickup_time_is_rejected(tmp_path, booked):
    sheet, *_ = booked()
    future = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    path = write(tmp_path, "c.csv", f"sheet_number,picked_up_at,agent\n{sheet.number},{future},A\n")
    with pytest.raises(CommandError):
        call_command("import_pickup_confirmations", path, errors=str(tmp_path / "e.csv"))
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.BOOKED


def test_a_missing_column_refuses_the_file(tmp_path, booked):
    path = write(tmp_path, "c.csv", "sheet_number,picked_up_at\nHS1,2026-11-25 09:15\n")
    with pytest.raises(CommandError, match="agent"):
        call_command("import_pickup_confirmations", path)
