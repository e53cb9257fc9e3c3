"""`import_regions` and `import_holidays`: reference data by natural key, and the deadlines that follow."""

import datetime
import io

import pytest
from django.core.management import call_command

from fulfillment.models import Holiday, Parcel, Region
from fulfillment.tests.import_files import REGIONS, at, error_rows, orders_file, run, write

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------------------------


def test_region_reimport_updates_changed_rows_and_counts_the_rest_unchanged(tmp_path):
    run("import_regions", write(tmp_path / "a.csv", REGIONS))
    status, out, _err = run("import_regions", write(tmp_path / "b.csv", REGIONS.replace("广东省,深圳市,0", "广东省,深圳市,1")))

    assert status == 0
    assert "inserted 0, updated 1, unchanged 2" in out
    assert Region.objects.get(city="深圳市").is_remote is True


# ---------------------------------------------------------------------------------------------
# Holidays
# ---------------------------------------------------------------------------------------------


def test_import_holidays_csv_and_reimport(tmp_path):
    path = write(tmp_path / "h.csv", "date,is_working_day,name\n2026-10-01,0,国庆节\n2026-10-10,1,国庆节调休\n")

    status, out, _err = run("import_holidays", path)
    again = run("import_holidays", path)

    assert status == 0 and "inserted 2" in out
    assert "unchanged 2" in again[1]
    assert list(Holiday.objects.values_list("date", "is_working_day", "name")) == [
        (datetime.date(2026, 10, 1), False, "国庆节"),
        (datetime.date(2026, 10, 10), True, "国庆节调休"),
    ]


def test_import_holidays_rejects_bad_dates(tmp_path):
    path = write(tmp_path / "h.csv", "date,is_working_day,name\n2026-02-30,0,x\n2026-10-01,perhaps,y\n")

    status, _out, _err = run("import_holidays", path, "--errors", str(tmp_path / "e.csv"))

    assert status == 1
    assert [(r["line"], r["field"]) for r in error_rows(tmp_path / "e.csv")] == [("2", "date"), ("3", "is_working_day")]


def test_import_holidays_for_a_year_from_chinese_calendar():
    out = io.StringIO()
    call_command("import_holidays", "--year", "2026", stdout=out, stderr=io.StringIO())

    assert Holiday.objects.filter(is_working_day=False).count() == 33
    make_up = Holiday.objects.filter(is_working_day=True)
    assert make_up.count() == 6
    assert all(day.date.weekday() >= 5 for day in make_up)
    assert Holiday.objects.get(date=datetime.date(2026, 10, 1)).name == "National Day"
    assert "inserted 39" in out.getvalue()


def test_holiday_import_recomputes_lazada_mall_deadlines(tmp_path):
    """Lazada Mall: RTS by the end of the 1st working day after the order day, sorting centre by the 3rd."""
    # Paid Tuesday 2026-03-03 10:00 Shanghai: 1st working day Wed 03-04, 3rd Fri 03-06.
    run("import_orders", orders_file(tmp_path, "lazada,lz-mall,LZ1,2026-03-03 10:00,30,mall,,,,LEX,LX100,2026-03-03 11:00,"))
    parcel = Parcel.objects.get(tracking_no="LX100")
    assert parcel.ship_due_at == at("2026-03-04 23:59:59"), "deadlines are computed by monitoring's receiver"
    assert parcel.sorting_due_at == at("2026-03-06 23:59:59")

    # Wednesday becomes a holiday: everything moves one working day later.
    status, _out, _err = run("import_holidays", write(tmp_path / "h.csv", "date,is_working_day,name\n2026-03-04,0,Test holiday\n"))

    assert status == 0
    parcel.refresh_from_db()
    assert parcel.ship_due_at == at("2026-03-05 23:59:59")
    assert parcel.sorting_due_at == at("2026-03-09 23:59:59")


# ---------------------------------------------------------------------------------------------
# Framework details
# ---------------------------------------------------------------------------------------------


def test_an_interrupted_region_import_is_finished_by_running_the_file_again(tmp_path, monkeypatch):
    """The import wrote the regions, then died before re-deriving the parcels: the re-run, which finds
    every row unchanged, still brings the stagnation deadline to 96 h (the database says what is due)."""
    from fulfillment.importers import RegionImporter
    from fulfillment.tests.factories import OrderFactory, ParcelFactory
    from monitoring.deadlines import recompute_deadlines

    parcel = ParcelFactory(order=OrderFactory(dest_province="西藏自治区", dest_city="拉萨市"), picked_up=True)
    recompute_deadlines(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    stagnation_72 = parcel.stagnation_due_at
    assert stagnation_72 == parcel.last_event_at + datetime.timedelta(hours=72)
    path = write(tmp_path / "regions.csv", "province,city,is_remote\n西藏自治区,,1\n")

    def crash(self):
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(RegionImporter, "finish", crash)
        with pytest.raises(RuntimeError):
            run("import_regions", path)
    assert Region.objects.get(province="西藏自治区").is_remote
    parcel.refresh_from_db()
    assert parcel.stagnation_due_at == stagnation_72  # the crash left the deadline behind

    status, out, _err = run("import_regions", path)

    assert status == 0 and "unchanged 1" in out
    parcel.refresh_from_db()
    assert parcel.stagnation_due_at == parcel.last_event_at + datetime.timedelta(hours=96)
