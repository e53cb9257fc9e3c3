"""The import commands as an operator runs them: files in, database rows, error report and exit status out."""

import csv
import datetime
import io
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from fulfillment import importers
from fulfillment.importers import EventImporter, RowError, parse_time, run_import
from fulfillment.models import (
    Carrier,
    CarrierOutlet,
    Holiday,
    ImportRun,
    Order,
    Parcel,
    ParcelStatus,
    Region,
    Shop,
    TrackingEvent,
)
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory, ShopFactory

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
UTC = datetime.UTC
ROOT = Path(__file__).resolve().parents[2]

ORDER_HEADER = (
    "platform,shop_code,order_id,paid_at,amount,seller_tier,origin_province,dest_province,dest_city,"
    "carrier_code,tracking_no,shipped_at,rts_at"
)
EVENT_HEADER = "carrier_code,tracking_no,code,occurred_at,location,description,outlet_code"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def run(command: str, path, *args):
    """Run an import command; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        status = error.returncode
        err.write(str(error))
    return status, out.getvalue(), err.getvalue()


def error_rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


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

REGIONS = "province,city,is_remote\n西藏自治区,,1\n新疆维吾尔自治区,喀什地区,是\n广东省,深圳市,0\n"


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


def test_region_reimport_updates_changed_rows_and_counts_the_rest_unchanged(tmp_path):
    run("import_regions", write(tmp_path / "a.csv", REGIONS))
    status, out, _err = run("import_regions", write(tmp_path / "b.csv", REGIONS.replace("广东省,深圳市,0", "广东省,深圳市,1")))

    assert status == 0
    assert "inserted 0, updated 1, unchanged 2" in out
    assert Region.objects.get(city="深圳市").is_remote is True


# ---------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------


def orders_file(tmp_path, *rows, name="orders.csv", encoding="utf-8"):
    return write(tmp_path / name, ORDER_HEADER + "\n" + "\n".join(rows) + "\n", encoding)


def test_import_orders_creates_shop_order_and_parcel_with_copied_fields(tmp_path):
    path = orders_file(
        tmp_path,
        "tmall,旗舰店-01,T1001,2026-03-02 10:00:00,199.50,mall,浙江省,广东省,深圳市,YTO,YT0001,2026-03-02 12:00:00,",
        encoding="gb18030",
    )

    status, out, err = run("import_orders", path)

    assert status == 0, err
    shop = Shop.objects.get(code="旗舰店-01")
    assert (shop.platform, shop.seller_tier) == ("tmall", "mall")
    order = Order.objects.get(order_id="T1001")
    assert (order.amount, order.paid_at, order.dest_city) == (Decimal("199.50"), at("2026-03-02 10:00"), "深圳市")
    parcel = order.parcels.get()
    assert parcel.shop == shop and parcel.platform == "tmall" and parcel.paid_at == order.paid_at
    assert (parcel.carrier.code, parcel.tracking_no, parcel.status) == ("YTO", "YT0001", ParcelStatus.SHIPPED)
    assert parcel.shipped_at == at("2026-03-02 12:00")
    assert "inserted 1" in out


def test_untracked_parcel_is_filled_in_by_a_later_row_and_a_second_tracking_number_adds_a_parcel(tmp_path):
    path = orders_file(
        tmp_path,
        "lazada,lz-mall,L1,2026-03-02T02:00:00Z,20,mall,,,,,,,",
        "lazada,lz-mall,L1,2026-03-02T02:00:00Z,20,mall,,,,LEX,LX1,2026-03-02T03:00:00Z,2026-03-02T04:00:00Z",
        "lazada,lz-mall,L1,2026-03-02T02:00:00Z,20,mall,,,,LEX,LX2,2026-03-02T05:00:00Z,",
    )

    status, out, _err = run("import_orders", path)

    assert status == 0
    parcels = Parcel.objects.filter(order__order_id="L1").order_by("tracking_no")
    assert [(p.tracking_no, p.status) for p in parcels] == [("LX1", ParcelStatus.READY_TO_SHIP), ("LX2", ParcelStatus.SHIPPED)]
    assert "inserted 2, updated 1, unchanged 0" in out


def test_reimporting_the_same_orders_writes_nothing_and_says_so(tmp_path):
    path = orders_file(
        tmp_path,
        "taobao,tb-1,B1,2026-03-02 10:00,10,marketplace,浙江省,广东省,深圳市,,,,",
        "taobao,tb-1,B1,2026-03-02 10:00,10,marketplace,浙江省,广东省,深圳市,ZTO,ZT1,2026-03-02 11:00,",
        "taobao,tb-1,B2,2026-03-02 10:00,10,marketplace,浙江省,广东省,深圳市,ZTO,ZT2,,",
    )
    run("import_orders", path)
    before = list(Parcel.objects.order_by("pk").values())

    status, out, _err = run("import_orders", path)

    assert status == 0
    assert "inserted 0, updated 0, unchanged 3" in out
    assert "Nothing written" in out
    assert list(Parcel.objects.order_by("pk").values()) == before
    assert Order.objects.count() == 2


def test_reimport_with_changed_values_updates_order_and_its_parcels(tmp_path):
    run("import_orders", orders_file(tmp_path, "tmall,s1,C1,2026-03-02 10:00,10,mall,浙江省,广东省,深圳市,YTO,Y1,,"))
    status, out, _err = run(
        "import_orders",
        orders_file(tmp_path, "tmall,s1,C1,2026-03-02 09:00,12.5,mall,浙江省,广东省,广州市,YTO,Y1,,", name="b.csv"),
    )

    assert status == 0
    assert "updated 1" in out
    order = Order.objects.get(order_id="C1")
    assert (order.amount, order.dest_city) == (Decimal("12.5"), "广州市")
    assert order.parcels.get().paid_at == at("2026-03-02 09:00")


def test_order_status_never_moves_backwards(tmp_path):
    run("import_orders", orders_file(tmp_path, "lazada,lz,R1,2026-03-02 10:00,10,mall,,,,LEX,LX9,2026-03-02 11:00,2026-03-02 12:00"))
    run("import_orders", orders_file(tmp_path, "lazada,lz,R1,2026-03-02 10:00,10,mall,,,,LEX,LX9,2026-03-02 11:00,", name="b.csv"))

    assert Parcel.objects.get(tracking_no="LX9").status == ParcelStatus.READY_TO_SHIP


def test_orders_send_parcels_changed_after_each_batch(tmp_path, announcements):
    rows = [f"tmall,s1,D{n},2026-03-02 10:00,10,mall,,,,YTO,YD{n},," for n in range(5)]
    run("import_orders", orders_file(tmp_path, *rows), "--batch-size", "2")
    calls = announcements()

    assert [reason for reason, _ids in calls] == ["orders"] * 3
    assert [len(ids) for _reason, ids in calls] == [2, 2, 1]
    assert sorted(i for _r, ids in calls for i in ids) == sorted(Parcel.objects.values_list("pk", flat=True))


def test_tracking_number_of_another_order_is_rejected(tmp_path):
    path = orders_file(
        tmp_path,
        "tmall,s1,E1,2026-03-02 10:00,10,mall,,,,YTO,SAME1,,",
        "tmall,s1,E2,2026-03-02 10:00,10,mall,,,,YTO,SAME1,,",
    )

    status, _out, _err = run("import_orders", path, "--errors", str(tmp_path / "e.csv"))

    assert status == 1
    [reject] = error_rows(tmp_path / "e.csv")
    assert (reject["line"], reject["field"]) == ("3", "tracking_no")
    assert "E1" in reject["message"]
    assert not Order.objects.filter(order_id="E2").exists()  # the row is applied whole or not at all


BAD_ORDER_ROWS = [
    ("tmall,s1,X1,2026-02-30 10:00,10,mall,,,,,,,", "paid_at"),
    ("tmall,s1,X2,next tuesday,10,mall,,,,,,,", "paid_at"),
    ("tmall,s1,X3,2026-03-02 10:00,-1,mall,,,,,,,", "amount"),
    ("tmall,s1,X4,2026-03-02 10:00,ten,mall,,,,,,,", "amount"),
    ("jd,s1,X5,2026-03-02 10:00,10,mall,,,,,,,", "platform"),
    ("tmall,s1,X6,2026-03-02 10:00,10,gold,,,,,,,", "seller_tier"),
    ("tmall,s1,,2026-03-02 10:00,10,mall,,,,,,,", "order_id"),
    ("tmall,,X8,2026-03-02 10:00,10,mall,,,,,,,", "shop_code"),
    ("tmall,s1,X9,2026-03-02 10:00,10,mall,,,,YTO,Y9,2026-03-02 25:61,", "shipped_at"),
]


def test_each_kind_of_bad_order_row_is_reported_with_line_field_and_message(tmp_path):
    good = "tmall,s1,OK1,2026-03-02 10:00,10,mall,,,,,,,"
    path = orders_file(tmp_path, good, *[row for row, _field in BAD_ORDER_ROWS])

    status, out, err = run("import_orders", path)

    assert status == 1
    report = f"{path}.errors.csv"
    assert report in out  # the report's path is printed
    rows = error_rows(report)
    assert [(r["line"], r["field"]) for r in rows] == [(str(n + 3), f) for n, (_row, f) in enumerate(BAD_ORDER_ROWS)]
    assert all(r["message"] for r in rows)
    assert "9 row(s) rejected" in err and "paid_at 2" in err and "amount 2" in err  # summarised by field
    assert list(Order.objects.values_list("order_id", flat=True)) == ["OK1"]
    assert ImportRun.objects.get(command="import_orders").rows_rejected == 9


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
    assert "inserted 1" in order_out and "rejected 1" in order_out and "dry run" in order_out
    assert "inserted 1" in event_out and "rejected 1" in event_out
    assert not Shop.objects.filter(code="new-shop").exists()
    assert not Order.objects.filter(order_id="DR1").exists()
    assert not Carrier.objects.filter(code="SF").exists()
    assert not TrackingEvent.objects.exists() and not CarrierOutlet.objects.exists()
    assert list(Parcel.objects.values()) == before_parcels
    assert [r.dry_run for r in ImportRun.objects.all()] == [True, True]


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def shipped_parcel():
    return ParcelFactory(
        shipped=True,
        carrier=CarrierFactory(code="YTO"),
        tracking_no="YT100",
        order=OrderFactory(paid_at=at("2026-03-02 08:00")),
        shipped_at=at("2026-03-02 09:00"),
    )


def events_file(tmp_path, *rows, name="events.csv", encoding="utf-8"):
    return write(tmp_path / name, EVENT_HEADER + "\n" + "\n".join(rows) + "\n", encoding)


def test_events_set_milestones_last_node_outlet_and_status(tmp_path, shipped_parcel):
    path = events_file(
        tmp_path,
        "YTO,YT100,picked_up,2026-03-02 18:00,杭州市余杭区,快件已揽收,HZ-YH",
        "YTO,YT100,in_transit,2026-03-03 02:00,杭州转运中心,快件已发往深圳,",
        "YTO,YT100,arrived_sorting_centre,2026-03-03T20:00:00Z,深圳转运中心,,",
        "YTO,YT100,info,2026-03-05 09:00,,客服已回复,",
        encoding="gb18030",
    )

    status, out, err = run("import_events", path)

    assert status == 0, err
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.picked_up_at == at("2026-03-02 18:00")
    assert shipped_parcel.sorting_centre_at == datetime.datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
    assert shipped_parcel.last_event_at == datetime.datetime(2026, 3, 3, 20, 0, tzinfo=UTC)  # info is not a node
    assert shipped_parcel.status == ParcelStatus.AT_SORTING_CENTRE
    assert (shipped_parcel.outlet.carrier.code, shipped_parcel.outlet.code) == ("YTO", "HZ-YH")
    assert TrackingEvent.objects.get(code="picked_up").location == "杭州市余杭区"
    assert "inserted 4" in out


def test_events_json_lines(tmp_path, shipped_parcel):
    rows = [
        {"carrier_code": "YTO", "tracking_no": "YT100", "code": "picked_up", "occurred_at": "2026-03-02T18:00:00+08:00",
         "location": "杭州", "description": "揽收", "outlet_code": None},
        {"carrier_code": "YTO", "tracking_no": "YT100", "code": "delivered", "occurred_at": "2026-03-04T10:00:00+08:00",
         "location": "深圳", "description": "签收", "outlet_code": ""},
    ]
    path = write(tmp_path / "ev.txt", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")

    status, _out, err = run("import_events", path)

    assert status == 0, err
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.status == ParcelStatus.DELIVERED
    assert shipped_parcel.delivered_at == at("2026-03-04 10:00")


def test_late_and_out_of_order_events(tmp_path, shipped_parcel):
    run("import_events", events_file(
        tmp_path,
        "YTO,YT100,out_for_delivery,2026-03-04 08:00,深圳南山,,",
        "YTO,YT100,picked_up,2026-03-02 20:00,杭州,,",
    ))
    # A day later the carrier sends an earlier pickup scan and an old transit scan.
    status, out, _err = run("import_events", events_file(
        tmp_path,
        "YTO,YT100,in_transit,2026-03-03 01:00,杭州转运中心,,",
        "YTO,YT100,picked_up,2026-03-02 18:30,杭州,,",
        name="late.csv",
    ))

    assert status == 0
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.picked_up_at == at("2026-03-02 18:30")  # the earliest pickup wins
    assert shipped_parcel.out_for_delivery_at == at("2026-03-04 08:00")
    assert shipped_parcel.last_event_at == at("2026-03-04 08:00")  # the latest node, not the latest import
    assert shipped_parcel.status == ParcelStatus.OUT_FOR_DELIVERY  # never back to in_transit


def test_same_event_twice_is_stored_once_and_reimport_is_a_no_op(tmp_path, shipped_parcel):
    path = events_file(
        tmp_path,
        "YTO,YT100,picked_up,2026-03-02 18:00,杭州,,",
        "YTO,YT100,picked_up,2026-03-02T10:00:00Z,杭州,,",  # the same instant, written in UTC
    )
    run("import_events", path)
    shipped_parcel.refresh_from_db()
    updated_at = shipped_parcel.updated_at

    status, out, _err = run("import_events", path)

    assert status == 0
    assert TrackingEvent.objects.count() == 1
    assert "inserted 0, updated 0, unchanged 2" in out and "Nothing written" in out
    shipped_parcel.refresh_from_db()
    assert shipped_parcel.updated_at == updated_at


def test_each_kind_of_bad_event_row_is_reported(tmp_path, shipped_parcel):
    path = events_file(
        tmp_path,
        "YTO,YT100,picked_up,2026-03-02 18:00,杭州,,",
        "YTO,YT100,teleported,2026-03-02 18:00,杭州,,",
        "YTO,YT100,in_transit,2026-02-29 18:00,杭州,,",
        "YTO,,in_transit,2026-03-02 18:00,杭州,,",
        ",YT100,in_transit,2026-03-02 18:00,杭州,,",
        "YTO,NO-SUCH-PARCEL,in_transit,2026-03-02 18:00,杭州,,",
        "ZZZ,YT100,in_transit,2026-03-02 18:00,杭州,,",
    )

    status, _out, err = run("import_events", path, "--errors", str(tmp_path / "errors.csv"))

    assert status == 1
    assert [(r["line"], r["field"]) for r in error_rows(tmp_path / "errors.csv")] == [
        ("3", "code"),
        ("4", "occurred_at"),
        ("5", "tracking_no"),
        ("6", "carrier_code"),
        ("7", "tracking_no"),
        ("8", "tracking_no"),
    ]
    assert "unknown parcel" in error_rows(tmp_path / "errors.csv")[4]["message"]
    assert "tracking_no 3" in err
    assert TrackingEvent.objects.count() == 1


def test_event_outlet_belongs_to_the_parcels_carrier_and_is_reused(tmp_path, shipped_parcel):
    existing = CarrierOutlet.objects.create(carrier=shipped_parcel.carrier, code="HZ-01", name="杭州一部")
    other = ParcelFactory(shipped=True, carrier=CarrierFactory(code="ZTO"), tracking_no="ZT1")
    run("import_events", events_file(
        tmp_path,
        "YTO,YT100,picked_up,2026-03-02 18:00,杭州,,HZ-01",
        "ZTO,ZT1,picked_up,2026-03-02 18:00,杭州,,HZ-01",
    ))

    shipped_parcel.refresh_from_db()
    other.refresh_from_db()
    assert shipped_parcel.outlet == existing
    assert other.outlet.carrier.code == "ZTO" and other.outlet != existing
    assert CarrierOutlet.objects.count() == 2


def test_events_send_parcels_changed_with_the_parcels_that_got_new_events(tmp_path, shipped_parcel, announcements):
    untouched = ParcelFactory(shipped=True, carrier=shipped_parcel.carrier, tracking_no="YT200")
    path = events_file(tmp_path, "YTO,YT100,picked_up,2026-03-02 18:00,杭州,,")
    run("import_events", path)
    run("import_events", path)  # nothing new: nothing sent
    calls = announcements()

    assert calls == [("events", [shipped_parcel.pk])]
    assert untouched.pk not in calls[0][1]


# ---------------------------------------------------------------------------------------------
# Interrupted imports
# ---------------------------------------------------------------------------------------------

MILESTONE_FIELDS = (
    "tracking_no", "status", "picked_up_at", "sorting_centre_at", "out_for_delivery_at", "delivered_at",
    "last_event_at", "outlet__code",
)


def make_event_parcels(n):
    carrier = CarrierFactory(code="YTO")
    return [ParcelFactory(shipped=True, carrier=carrier, tracking_no=f"INT{i:03d}") for i in range(n)]


def event_rows(parcels):
    """Out-of-order events over the parcels, with duplicates and late earlier scans."""
    codes = ["picked_up", "in_transit", "arrived_sorting_centre", "info", "out_for_delivery", "picked_up", "delivered"]
    rows = []
    for step, code in enumerate(codes):
        for i, _parcel in enumerate(parcels):
            hour = 10 + (step * 7 + i) % 30 if code != "picked_up" else 9 + step
            rows.append(f"YTO,INT{i:03d},{code},2026-03-0{2 + (i % 3)} {hour % 24:02d}:{i % 60:02d},网点{i % 4},,O{(i + step) % 5}")
    rows.append(rows[0])  # a duplicate in a later batch
    return rows


def database_state():
    events = sorted(
        TrackingEvent.objects.values_list("parcel__tracking_no", "code", "occurred_at", "location", "outlet__code")
    )
    parcels = list(Parcel.objects.order_by("tracking_no").values_list(*MILESTONE_FIELDS))
    outlets = sorted(CarrierOutlet.objects.values_list("carrier__code", "code"))
    return events, parcels, outlets


def reset_to(parcel_rows):
    TrackingEvent.objects.all().delete()
    CarrierOutlet.objects.all().delete()
    for row in parcel_rows:
        Parcel.objects.filter(pk=row["pk"]).update(**{k: v for k, v in row.items() if k != "pk"})


def test_import_interrupted_in_batch_two_then_rerun_equals_a_clean_run(tmp_path, monkeypatch):
    parcels = make_event_parcels(12)
    initial = list(Parcel.objects.values("pk", "status", "picked_up_at", "sorting_centre_at", "out_for_delivery_at",
                                          "delivered_at", "last_event_at", "outlet"))
    path = events_file(tmp_path, *event_rows(parcels))

    # A clean run, for reference.
    assert run("import_events", path, "--batch-size", "10")[0] == 0
    clean = database_state()
    reset_to(initial)

    # The same import failing in batch 2 (after batch 1 committed)...
    original = EventImporter.apply_batch
    calls = {"n": 0}

    def failing(self, records):
        calls["n"] += 1
        if calls["n"] == 2:
            original(self, records)  # written, then the crash
            raise RuntimeError("disk full")
        return original(self, records)

    monkeypatch.setattr(EventImporter, "apply_batch", failing)
    with pytest.raises(RuntimeError):
        run("import_events", path, "--batch-size", "10")
    monkeypatch.undo()
    assert 0 < TrackingEvent.objects.count() <= 10  # batch 1 stayed, batch 2 was rolled back

    # ...and run again.
    status, out, _err = run("import_events", path, "--batch-size", "10")

    assert status == 0
    assert "unchanged" in out
    assert database_state() == clean


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_import_killed_after_first_batch_then_rerun_equals_a_clean_run(tmp_path):
    """A real crash: the command runs in another process and is killed with SIGKILL mid-import."""
    parcels = make_event_parcels(40)
    initial = list(Parcel.objects.values("pk", "status", "picked_up_at", "sorting_centre_at", "out_for_delivery_at",
                                          "delivered_at", "last_event_at", "outlet"))
    rows = event_rows(parcels) * 1  # 281 rows
    path = events_file(tmp_path, *rows)
    assert run("import_events", path, "--batch-size", "5")[0] == 0
    clean = database_state()
    reset_to(initial)
    ImportRun.objects.all().delete()

    settings_dict = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}",
    }
    process = subprocess.Popen(  # noqa: S603 — our own manage.py with fixed arguments
        [sys.executable, "manage.py", "import_events", str(path), "--batch-size", "5"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if ImportRun.objects.filter(rows_inserted__gt=0).exists():
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    stored = TrackingEvent.objects.count()
    assert 0 < stored < len(rows) - 1

    status, out, _err = run("import_events", path, "--batch-size", "5")

    assert status == 0
    assert database_state() == clean


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


def test_import_run_records_counts_and_error_report(tmp_path):
    path = orders_file(tmp_path, "tmall,s1,R1,2026-03-02 10:00,10,mall,,,,,,,", "tmall,s1,R2,2026-03-02 10:00,-3,mall,,,,,,,")

    run("import_orders", path)

    record = ImportRun.objects.get()
    assert (record.command, record.rows_read, record.rows_inserted, record.rows_rejected) == ("import_orders", 2, 1, 1)
    assert record.finished_at is not None and record.error_report == f"{path}.errors.csv"


def test_progress_lines_when_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.Progress, "__init__", _progress_init_every_batch)
    rows = [f"P{n},,0" for n in range(30)]
    path = write(tmp_path / "r.csv", "province,city,is_remote\n" + "\n".join(rows) + "\n")
    err = io.StringIO()

    call_command("import_regions", str(path), "--batch-size", "10", stdout=io.StringIO(), stderr=err)

    lines = [line for line in err.getvalue().splitlines() if "rows/s" in line]
    assert len(lines) >= 3 and "\r" not in err.getvalue()
    assert lines[-1].startswith("import_regions: 30 rows read (100%)")


_original_progress_init = importers.Progress.__init__


def _progress_init_every_batch(self, stream, *, label, total_bytes, interval=5.0):
    _original_progress_init(self, stream, label=label, total_bytes=total_bytes, interval=0.0)


def test_run_import_counts_come_back_to_the_caller(tmp_path):
    ShopFactory(code="s1")
    path = orders_file(tmp_path, "tmall,s1,Q1,2026-03-02 10:00,10,mall,,,,,,,")

    report = run_import(importers.OrderImporter(), path, stdout=io.StringIO(), stderr=io.StringIO())

    assert (report.read, report.inserted, report.rejected, report.encoding, report.format) == (1, 1, 0, "utf-8", "csv")


def test_progress_bar_on_a_terminal(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rows = [f"P{n},,0" for n in range(20)]
    path = write(tmp_path / "r.csv", "province,city,is_remote\n" + "\n".join(rows) + "\n")
    terminal = Terminal()

    run_import(importers.RegionImporter(), path, stdout=io.StringIO(), stderr=terminal)

    assert terminal.getvalue().startswith("\rimport_regions ")
    assert "100%" in terminal.getvalue() and "rows/s" in terminal.getvalue()


KILL_SETUP = """
from fulfillment.models import Carrier, Order, Parcel, Shop
import datetime
paid = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)
shop = Shop.objects.create(code="s", platform="tmall")
carrier = Carrier.objects.create(code="YTO")
for i in range({n}):
    order = Order.objects.create(shop=shop, platform="tmall", seller_tier="mall", order_id=f"K{{i}}", paid_at=paid, amount=1)
    Parcel.objects.create(order=order, shop=shop, platform="tmall", carrier=carrier, tracking_no=f"INT{{i:03d}}",
                          paid_at=paid, status="shipped")
"""

KILL_DUMP = """
import json
from fulfillment.models import CarrierOutlet, Parcel, TrackingEvent
events = sorted([p, c, t.isoformat(), loc, o] for p, c, t, loc, o in TrackingEvent.objects.values_list(
    "parcel__tracking_no", "code", "occurred_at", "location", "outlet__code"))
parcels = [[str(v) for v in row] for row in Parcel.objects.order_by("tracking_no").values_list({fields})]
outlets = sorted(CarrierOutlet.objects.values_list("carrier__code", "code"))
print(json.dumps([events, parcels, outlets]))
"""


def test_sqlite_file_import_killed_mid_way_then_rerun_equals_a_clean_run(tmp_path):
    """The same crash test on an SQLite file database (WAL), each run in its own process."""
    import shutil

    def manage(db, *args, wait=True):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": f"sqlite:///{db}"}
        command = [sys.executable, "manage.py", *args]
        if not wait:
            return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603

    template, clean_db, crashed_db = tmp_path / "t.sqlite3", tmp_path / "clean.sqlite3", tmp_path / "crashed.sqlite3"
    assert manage(template, "migrate", "-v0").returncode == 0
    assert manage(template, "shell", "-c", KILL_SETUP.format(n=40)).returncode == 0
    shutil.copy(template, clean_db)
    shutil.copy(template, crashed_db)
    rows = event_rows([None] * 40) * 3
    path = events_file(tmp_path, *rows)

    assert manage(clean_db, "import_events", str(path), "--batch-size", "5").returncode == 0

    import sqlite3

    process = manage(crashed_db, "import_events", str(path), "--batch-size", "5", wait=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sqlite3.connect(crashed_db, timeout=30) as db:
                if db.execute("SELECT COUNT(*) FROM fulfillment_trackingevent").fetchone()[0] > 0:
                    break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    with sqlite3.connect(crashed_db) as db:
        stored = db.execute("SELECT COUNT(*) FROM fulfillment_trackingevent").fetchone()[0]
    assert 0 < stored < len(set(rows))

    rerun = manage(crashed_db, "import_events", str(path), "--batch-size", "5")

    assert rerun.returncode == 0, rerun.stderr
    dump = KILL_DUMP.format(fields=", ".join(repr(f) for f in MILESTONE_FIELDS))
    clean = json.loads(manage(clean_db, "shell", "-c", dump).stdout.strip().splitlines()[-1])
    assert len(clean[0]) == len(set(rows)) and clean[2]  # events and outlets, not an empty comparison
    assert json.loads(manage(crashed_db, "shell", "-c", dump).stdout.strip().splitlines()[-1]) == clean


def test_json_lines_file_whose_first_line_is_not_an_object_is_refused(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"province": "青海省", "city": "", "is_remote": 1\n')

    with pytest.raises(CommandError, match="line 1 is not a JSON object"):
        call_command("import_regions", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_event_text_with_commas_quotes_and_line_breaks_round_trips(tmp_path, shipped_parcel):
    description = '买家留言："放门口, 谢谢"\n第二行 \\ 反斜杠\t制表'
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [EVENT_HEADER.split(","), ["YTO", "YT100", "picked_up", "2026-03-02 18:00", "杭州,余杭", description, ""]]
    )
    path = write(tmp_path / "ev.csv", buffer.getvalue(), "gb18030")

    status, _out, err = run("import_events", path)

    assert status == 0, err
    event = TrackingEvent.objects.get()
    assert (event.location, event.description) == ("杭州,余杭", description)


def test_column_names_are_matched_whatever_their_case_and_spacing(tmp_path):
    path = write(tmp_path / "r.csv", " Province , City,IS_REMOTE\r\n西藏自治区,,1\r\n", "utf-8-sig")

    status, _out, err = run("import_regions", path)

    assert status == 0, err
    assert Region.objects.get().province == "西藏自治区"
