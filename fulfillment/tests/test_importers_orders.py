"""`import_orders`: shops, orders and their parcels from the platforms' exports."""

from decimal import Decimal

import pytest

from fulfillment.models import ImportRun, Order, Parcel, ParcelStatus, Shop
from fulfillment.tests.import_files import at, error_rows, orders_file, run

pytestmark = pytest.mark.django_db


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


def _with_outlet_header(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] += ",outlet_code"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_outlet_code_is_the_parcels_e_waybill_outlet_of_its_carrier_before_any_scan(tmp_path):
    from fulfillment.models import CarrierOutlet

    path = _with_outlet_header(orders_file(
        tmp_path,
        "tmall,s1,W1,2026-03-02 10:00,10,mall,浙江省,广东省,深圳市,YTO,YT9001,2026-03-02 11:00,,HZ-01",
        "tmall,s1,W2,2026-03-02 10:00,10,mall,浙江省,广东省,深圳市,ZTO,ZT9002,,,HZ-01",
        "tmall,s1,W3,2026-03-02 10:00,10,mall,浙江省,广东省,深圳市,ZTO,ZT9003,,,",
    ))

    status, _out, err = run("import_orders", path)

    assert status == 0, err
    outlets = dict(Parcel.objects.values_list("tracking_no", "outlet__carrier__code"))
    assert outlets == {"YT9001": "YTO", "ZT9002": "ZTO", "ZT9003": None}
    assert CarrierOutlet.objects.filter(code="HZ-01").count() == 2  # one per carrier
    status, out, _err = run("import_orders", path)
    assert "unchanged 3" in out


def test_e_waybill_outlet_stays_when_events_name_another_outlet_and_fills_an_event_outlet(tmp_path):
    from fulfillment.tests.import_files import events_file

    run("import_orders", orders_file(tmp_path, "tmall,s1,W1,2026-03-02 10:00,10,mall,,,,YTO,YT9001,2026-03-02 11:00,"))
    run("import_events", events_file(tmp_path, "YTO,YT9001,picked_up,2026-03-02 12:00,杭州,揽收,EV-1"))
    assert Parcel.objects.get().outlet.code == "EV-1"  # no waybill outlet: the earliest event's

    path = _with_outlet_header(orders_file(
        tmp_path, "tmall,s1,W1,2026-03-02 10:00,10,mall,,,,YTO,YT9001,2026-03-02 11:00,,WB-1", name="again.csv"
    ))
    assert run("import_orders", path)[0] == 0
    run("import_events", events_file(tmp_path, "YTO,YT9001,in_transit,2026-03-02 18:00,杭州,运输,EV-2", name="e2.csv"))
    assert Parcel.objects.get().outlet.code == "WB-1"


def test_outlet_code_without_carrier_is_rejected(tmp_path):
    path = _with_outlet_header(orders_file(tmp_path, "tmall,s1,W1,2026-03-02 10:00,10,mall,,,,,,,,HZ-01"))
    errors = tmp_path / "errors.csv"

    status, _out, _err = run("import_orders", path, "--errors", str(errors))

    assert status != 0
    assert [(r["field"]) for r in error_rows(errors)] == ["carrier_code"]
