"""The import framework (`fulfillment.importing`) as an operator meets it: encodings, formats, refusals,
dry runs, progress, the run record; and the natural-key upsert every reference importer writes with."""

import datetime
import io
import json
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fulfillment.importers.orders import OrderImporter
from fulfillment.importers.reference import RegionImporter, RegionRecord
from fulfillment.importing import Progress, RowError, parse_time, run_import, upsert_by_natural_key
from fulfillment.models import Carrier, CarrierOutlet, Holiday, ImportRun, Order, Parcel, Region, Shop, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, ParcelFactory, ShopFactory
from fulfillment.tests.import_files import EVENT_HEADER, ORDER_HEADER, REGIONS, UTC, error_rows, orders_file, run, write

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------------------------


def test_parse_time_without_offset_is_shanghai_and_offsets_are_honoured():
    assert parse_time("2026-05-01 14:30") == datetime.datetime(2026, 5, 1, 6, 30, tzinfo=UTC)
    assert parse_time("2026-05-01T14:30:00") == datetime.datetime(2026, 5, 1, 6, 30, tzinfo=UTC)
    assert parse_time("2026-05-01T14:30:00Z") == datetime.datetime(2026, 5, 1, 14, 30, tzinfo=UTC)
    assert parse_time("2026-05-01T14:30:00+07:00") == datetime.datetime(2026, 5, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2026-02-30 10:00", "2026-13-01 10:00", "yesterday", "2026-05-01", "", "2026-05-01 25:00"])
def test_parse_time_rejects_bad_and_impossible_times(value):
    with pytest.raises(RowError) as excinfo:
        parse_time(value, "paid_at")
    assert excinfo.value.field == "paid_at"


# ---------------------------------------------------------------------------------------------
# Encodings and formats (regions: the smallest file)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_regions_csv_in_each_encoding_keeps_chinese_names(tmp_path, encoding):
    path = write(tmp_path / "regions.txt", REGIONS, encoding)  # the name says nothing about the encoding

    status, out, err = run("import_regions", path)

    assert status == 0, err
    assert set(Region.objects.values_list("province", "city", "is_remote")) == {
        ("西藏自治区", "", True),
        ("新疆维吾尔自治区", "喀什地区", True),
        ("广东省", "深圳市", False),
    }
    assert "inserted 3" in out


def test_gb18030_is_detected_even_when_the_chinese_starts_late(tmp_path):
    lines = ["province,city,is_remote"] + [f"P{n},C{n},0" for n in range(3000)] + ["西藏自治区,拉萨市,1"]
    path = write(tmp_path / "regions.csv", "\n".join(lines) + "\n", "gb18030")

    status, _out, err = run("import_regions", path)

    assert status == 0, err
    assert Region.objects.get(city="拉萨市").province == "西藏自治区"


def test_regions_json_lines(tmp_path):
    rows = [
        {"province": "青海省", "city": "", "is_remote": True},
        {"province": "甘肃省", "city": "兰州市", "is_remote": "0"},
    ]
    path = write(tmp_path / "regions.csv", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")

    status, _out, err = run("import_regions", path)

    assert status == 0, err
    assert set(Region.objects.values_list("province", "city", "is_remote")) == {("青海省", "", True), ("甘肃省", "兰州市", False)}


def test_json_lines_line_that_is_not_an_object_is_rejected(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"province": "青海省", "city": "", "is_remote": 1}\n[1, 2]\n{oops\n')

    status, _out, _err = run("import_regions", path, "--errors", str(tmp_path / "err.csv"))

    assert status == 1
    assert [r["line"] for r in error_rows(tmp_path / "err.csv")] == ["2", "3"]
    assert Region.objects.count() == 1


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"province,city,is_remote\n\x81\x20\xff\xfe,,1\n")

    with pytest.raises(CommandError, match="neither UTF-8 nor GB18030"):
        call_command("import_regions", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Region.objects.exists()


def test_a_utf16_export_is_refused_naming_the_encoding_it_looks_like(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("province,city,is_remote\n西藏自治区,,1\n青海省,西宁市,0\n".encode("utf-16"))

    with pytest.raises(CommandError, match="looks like UTF-16 text, neither UTF-8 nor GB18030"):
        call_command("import_regions", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Region.objects.exists()


def test_json_lines_file_whose_first_line_is_not_an_object_is_refused(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"province": "青海省", "city": "", "is_remote": 1\n')

    with pytest.raises(CommandError, match="line 1 is not a JSON object"):
        call_command("import_regions", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_column_names_are_matched_whatever_their_case_and_spacing(tmp_path):
    path = write(tmp_path / "r.csv", " Province , City,IS_REMOTE\r\n西藏自治区,,1\r\n", "utf-8-sig")

    status, _out, err = run("import_regions", path)


# ---------------------------------------------------------------------------------------------
# Refused files and dry runs
# ---------------------------------------------------------------------------------------------


def test_file_missing_a_required_column_is_refused_whole(tmp_path):
    header = ORDER_HEADER.replace(",amount", "").replace(",rts_at", "")
    path = write(tmp_path / "o.csv", header + "\ntmall,s1,M1,2026-03-02 10:00,mall,,,,,,\n")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_orders", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert "amount, rts_at" in str(excinfo.value)
    assert excinfo.value.returncode == 2
    assert not Order.objects.exists() and not Shop.objects.exists()


def test_dry_run_validates_and_reports_without_writing(tmp_path):
    ParcelFactory(shipped=True, carrier=CarrierFactory(code="YTO"), tracking_no="YTDRY")
    before_parcels = list(Parcel.objects.values())
    orders = orders_file(tmp_path, "tmall,new-shop,DR1,2026-03-02 10:00,10,mall,,,,SF,SF1,,", "tmall,s,DR2,bad,10,mall,,,,,,,")
    events = write(
        tmp_path / "ev.csv",
        f"{EVENT_HEADER}\nYTO,YTDRY,picked_up,2026-03-02 12:00,杭州,,OUT1\nYTO,NOPE,picked_up,2026-03-02 12:00,杭州,,\n",
    )

    order_status, order_out, _ = run("import_orders", orders, "--dry-run")
    event_status, event_out, _ = run("import_events", events, "--dry-run")

    assert (order_status, event_status) == (1, 1)  # rejects are still reported
    assert "would insert 1" in order_out and "rejected 1" in order_out and "dry run" in order_out
    assert "would insert 1" in event_out and "rejected 1" in event_out
    assert not Shop.objects.filter(code="new-shop").exists()
    assert not Order.objects.filter(order_id="DR1").exists()
    assert not Carrier.objects.filter(code="SF").exists()
    assert not TrackingEvent.objects.exists() and not CarrierOutlet.objects.exists()
    assert list(Parcel.objects.values()) == before_parcels
    assert [r.dry_run for r in ImportRun.objects.all()] == [True, True]


def test_import_run_records_counts_and_error_report(tmp_path):
    path = orders_file(tmp_path, "tmall,s1,R1,2026-03-02 10:00,10,mall,,,,,,,", "tmall,s1,R2,2026-03-02 10:00,-3,mall,,,,,,,")

    run("import_orders", path)

    record = ImportRun.objects.get()
    assert (record.command, record.rows_read, record.rows_inserted, record.rows_rejected) == ("import_orders", 2, 1, 1)
    assert record.finished_at is not None and record.error_report == f"{path}.errors.csv"


def test_progress_lines_when_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(Progress, "__init__", _progress_init_every_batch)
    rows = [f"P{n},,0" for n in range(30)]
    path = write(tmp_path / "r.csv", "province,city,is_remote\n" + "\n".join(rows) + "\n")
    err = io.StringIO()

    call_command("import_regions", str(path), "--batch-size", "10", stdout=io.StringIO(), stderr=err)

    lines = [line for line in err.getvalue().splitlines() if "rows/s" in line]
    assert len(lines) >= 3 and "\r" not in err.getvalue()
    assert lines[-1].startswith("import_regions: 30 rows read (100%)")


_original_progress_init = Progress.__init__


def _progress_init_every_batch(self, stream, *, label, total_bytes, interval=5.0):
    _original_progress_init(self, stream, label=label, total_bytes=total_bytes, interval=0.0)


def test_run_import_counts_come_back_to_the_caller(tmp_path):
    ShopFactory(code="s1")
    path = orders_file(tmp_path, "tmall,s1,Q1,2026-03-02 10:00,10,mall,,,,,,,")

    report = run_import(OrderImporter(), path, stdout=io.StringIO(), stderr=io.StringIO())

    assert (report.read, report.inserted, report.rejected, report.encoding, report.format) == (1, 1, 0, "utf-8", "csv")


def test_progress_bar_on_a_terminal(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rows = [f"P{n},,0" for n in range(20)]
    path = write(tmp_path / "r.csv", "province,city,is_remote\n" + "\n".join(rows) + "\n")
    terminal = Terminal()

    run_import(RegionImporter(), path, stdout=io.StringIO(), stderr=terminal)

    assert terminal.getvalue().startswith("\rimport_regions ")
    assert "100%" in terminal.getvalue() and "rows/s" in terminal.getvalue()


# ---------------------------------------------------------------------------------------------
# The natural-key upsert
# ---------------------------------------------------------------------------------------------


@dataclass
class Day:
    date: datetime.date
    is_working_day: bool
    name: str


def test_upsert_inserts_new_keys_updates_changed_values_and_counts_the_rest_unchanged(django_assert_max_num_queries):
    oct_ = [datetime.date(2026, 10, d) for d in (1, 2, 3, 10)]
    for day in oct_[:3]:
        Holiday.objects.create(date=day, is_working_day=False, name="国庆节")
    records = [
        Day(oct_[0], False, "国庆节"),  # as stored
        Day(oct_[1], False, "National Day"),  # a new name
        Day(oct_[2], True, "国庆节"),  # now a working day
        Day(oct_[3], True, "调休"),  # new...
        Day(oct_[3], False, "later row wins"),  # ...and given again: the later row wins
    ]

    with django_assert_max_num_queries(3):  # read, insert, update: whatever the batch size
        result = upsert_by_natural_key(
            model=Holiday, key_fields=("date",), value_fields=("is_working_day", "name"), records=records
        )

    assert result.counts == (1, 2, 2)
    assert result.inserted_keys == ((oct_[3],),)
    assert result.changed_fields == {(oct_[1],): {"name"}, (oct_[2],): {"is_working_day"}}
    assert list(Holiday.objects.order_by("date").values_list("is_working_day", "name")) == [
        (False, "国庆节"), (False, "National Day"), (True, "国庆节"), (False, "later row wins"),
    ]


def test_upsert_matches_the_whole_composite_key():
    Region.objects.create(province="广东省", city="", is_remote=False)
    Region.objects.create(province="广东省", city="深圳市", is_remote=False)
    records = [RegionRecord(line=2, province="广东省", city="", is_remote=True),
               RegionRecord(line=3, province="广东省", city="广州市", is_remote=False)]

    result = upsert_by_natural_key(
        model=Region, key_fields=("province", "city"), value_fields=("is_remote",), records=records
    )

    assert result.counts == (1, 1, 0)
    assert result.changed_keys == [("广东省", "广州市"), ("广东省", "")]
    assert set(Region.objects.values_list("city", "is_remote")) == {("", True), ("深圳市", False), ("广州市", False)}


def test_upsert_of_an_empty_batch_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        result = upsert_by_natural_key(
            model=Region, key_fields=("province", "city"), value_fields=("is_remote",), records=[]
        )
    assert result.counts == (0, 0, 0)


def test_a_link_planted_at_the_error_reports_path_is_replaced_not_followed(tmp_path):
    """The report beside the input has a predictable name: writing through a planted link would
    overwrite any file the importing user can write."""
    import os

    from fulfillment.tests.import_files import run, write

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = write(tmp_path / "regions.csv", "province,city,is_remote\n西藏自治区,,maybe\n")
    os.symlink(victim, f"{path}.errors.csv")

    assert run("import_regions", path)[0] == 1

    assert victim.read_text() == "precious"
    report = tmp_path / "regions.csv.errors.csv"
    assert not report.is_symlink() and "is_remote" in report.read_text(encoding="utf-8-sig")
    assert oct(report.stat().st_mode & 0o777) == "0o600"
