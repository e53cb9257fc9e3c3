"""DESIGN.md "Bounds on input": whatever an import file holds, each bad row is reported with its line
and field, the other rows are imported, and nothing ends in a traceback. Each case was reproduced on
the code before these checks (a crash, or a row stored wrong)."""

import json

import pytest

from fulfillment.models import Holiday, Order, Parcel, TrackingEvent
from fulfillment.tests.factories import ParcelFactory
from fulfillment.tests.import_files import EVENT_HEADER, ORDER_HEADER, error_rows, events_file, orders_file, run, write

pytestmark = pytest.mark.django_db

GOOD_ORDER = "tmall,s1,OK1,2026-03-02 10:00,10,mall,浙江省,广东省,深圳市,YTO,YT1,,"


def rejected(path) -> list[tuple[str, str]]:
    return [(row["line"], row["field"]) for row in error_rows(f"{path}.errors.csv")]


@pytest.mark.parametrize(
    "paid_at", ["9999-12-31T23:59:59", "0001-01-01T00:00:00", "9999-12-31T23:00:00-05:00", "1999-12-31T23:59:59+08:00"]
)
def test_an_impossible_payment_time_is_a_rejected_row_and_the_rest_is_imported(tmp_path, paid_at):
    path = orders_file(tmp_path, f"tmall,s1,BAD1,{paid_at},10,mall,,,,,,,", GOOD_ORDER)

    status, _out, _err = run("import_orders", path)

    assert status == 1
    assert rejected(path) == [("2", "paid_at")]
    assert list(Order.objects.values_list("order_id", flat=True)) == ["OK1"]
    assert run("import_orders", path)[0] == 1  # a re-run reports the same row again, and nothing else changes
    assert Order.objects.count() == 1


def test_times_more_than_a_day_ahead_are_refused(tmp_path):
    path = orders_file(tmp_path, "tmall,s1,F1,2030-01-01 10:00,10,mall,,,,,,,")
    assert run("import_orders", path)[0] == 1
    assert rejected(path) == [("2", "paid_at")]


def test_an_event_in_year_9999_with_an_offset_is_rejected_not_an_overflow(tmp_path):
    ParcelFactory(shipped=True, tracking_no="YT100", carrier__code="YTO")
    path = events_file(
        tmp_path,
        "YTO,YT100,in_transit,9999-12-31T23:00:00-05:00,杭州,,",
        "YTO,YT100,picked_up,2026-03-02 18:00,杭州,,",
    )
    assert run("import_events", path)[0] == 1
    assert rejected(path) == [("2", "occurred_at")]
    assert TrackingEvent.objects.count() == 1


def test_a_holiday_in_year_9999_is_rejected(tmp_path):
    path = write(tmp_path / "holidays.csv", "date,is_working_day,name\n9999-01-01,0,x\n2026-10-01,0,国庆节\n")
    assert run("import_holidays", path)[0] == 1
    assert rejected(path) == [("2", "date")]
    assert list(Holiday.objects.values_list("name", flat=True)) == ["国庆节"]


def test_a_row_with_more_values_than_the_header_is_rejected_not_shifted(tmp_path):
    ParcelFactory(shipped=True, tracking_no="YT100", carrier__code="YTO")
    path = events_file(tmp_path, "YTO,YT100,picked_up,2026-03-02 18:00,杭州,已揽收, 快件已收,OUT1")
    assert run("import_events", path)[0] == 1
    assert rejected(path) == [("2", "")]
    assert "8 values but the header has 7 columns" in error_rows(f"{path}.errors.csv")[0]["message"]
    assert not TrackingEvent.objects.exists()


def test_a_header_naming_a_column_twice_refuses_the_file(tmp_path):
    path = write(tmp_path / "orders.csv", ORDER_HEADER + ",order_id\n" + GOOD_ORDER + ",X\n")
    status, _out, err = run("import_orders", path)
    assert status == 2
    assert "order_id" in err and "more than once" in err
    assert not Order.objects.exists()


def test_a_huge_field_and_a_nul_byte_are_rejected_rows(tmp_path):
    ParcelFactory(shipped=True, tracking_no="YT100", carrier__code="YTO")
    huge = "x" * 200_000  # over csv's default 131,072-character field limit
    path = events_file(
        tmp_path,
        f"YTO,YT100,in_transit,2026-03-02 19:00,杭州,{huge},",
        "YTO,YT100,in_transit,2026-03-02 20:00,杭\x00州,,",
        "YTO,YT100,picked_up,2026-03-02 18:00,杭州,,",
    )
    assert run("import_events", path)[0] == 1
    assert rejected(path) == [("2", "description"), ("3", "location")]
    assert TrackingEvent.objects.count() == 1


def test_a_line_longer_than_a_mebibyte_is_skipped_without_reading_it_whole(tmp_path):
    ParcelFactory(shipped=True, tracking_no="YT100", carrier__code="YTO")
    lines = [
        json.dumps({"carrier_code": "YTO", "tracking_no": "YT100", "code": "picked_up", "occurred_at": "2026-03-02 18:00"}),
        json.dumps({"carrier_code": "YTO", "tracking_no": "YT100", "code": "info", "occurred_at": "2026-03-02 19:00",
                    "description": "x" * (2 << 20)}),
    ]
    path = write(tmp_path / "events.jsonl", "\n".join(lines) + "\n")
    assert run("import_events", path)[0] == 1
    assert rejected(path) == [("2", "")]
    assert TrackingEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"carrier_code": "YTO", "tracking_no": "YT100", "code": "info", "occurred_at": "2026-03-02 19:00", '
         '"location": {"city": "杭州"}}', "location"),
        ('{"carrier_code": "YTO", "tracking_no": "YT100", "code": "info", "occurred_at": "2026-03-02 19:00", '
         '"location": ["杭州"]}', "location"),
        ('{"carrier_code": "YTO", "tracking_no": "YT100", "code": "info", "code": "delivered", '
         '"occurred_at": "2026-03-02 19:00"}', "code"),
    ],
)
def test_json_lines_objects_arrays_and_duplicate_keys_are_rejected(tmp_path, line, field):
    ParcelFactory(shipped=True, tracking_no="YT100", carrier__code="YTO")
    first = '{"carrier_code": "YTO", "tracking_no": "YT100", "code": "picked_up", "occurred_at": "2026-03-02 18:00"}'
    path = write(tmp_path / "events.jsonl", first + "\n" + line + "\n")
    assert run("import_events", path)[0] == 1
    assert rejected(path) == [("2", field)]
    assert list(TrackingEvent.objects.values_list("code", flat=True)) == ["picked_up"]


def test_a_file_mixing_utf8_and_gb18030_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(
        (EVENT_HEADER + "\n").encode()
        + "YTO,YT100,picked_up,2026-03-02 18:00,杭州,已揽收,\n".encode()
        + "YTO,YT100,in_transit,2026-03-02 19:00,杭州,运输中,\n".encode("gb18030")
    )
    status, _out, err = run("import_events", path)
    assert status == 2
    assert "line 3" in err and "mixes encodings" in err
    assert not TrackingEvent.objects.exists() and Parcel.objects.count() == 0
