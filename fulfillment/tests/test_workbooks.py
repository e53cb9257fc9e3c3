"""`.xlsx` imports: the first sheet, the spreadsheet's row numbers, real cells read as their text."""

import datetime

import pytest
from openpyxl import Workbook

from fulfillment.importing import workbooks
from fulfillment.models import Order, Parcel, Region
from fulfillment.tests.import_files import ORDER_HEADER, at, error_rows, run

pytestmark = pytest.mark.django_db


def workbook(path, *rows, second_sheet=None):
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    if second_sheet:
        other = book.create_sheet("other")
        for row in second_sheet:
            other.append(list(row))
    book.save(path)
    return path


def test_orders_from_a_spreadsheet_with_date_cells_numbers_and_blank_rows(tmp_path):
    header = ORDER_HEADER.split(",")
    good = ["tmall", "shop-x", "T9", datetime.datetime(2026, 3, 2, 10, 0), 199.5, "mall", "浙江省", "广东省", "深圳市",
            "YTO", 7731000000101, None, None]  # fmt: skip
    late = [*good[:2], "T10", "2026-03-02 11:00", 10, *good[5:10], "YT10", "2026-03-01 09:00", None]
    path = workbook(tmp_path / "orders.xlsx", header, good, [], [None] * 3, late, second_sheet=[header, good])

    status, out, err = run("import_orders", path)

    assert status == 1  # the late row
    order = Order.objects.get(order_id="T9")
    assert order.paid_at == at("2026-03-02 10:00") and str(order.amount) == "199.50"
    assert Parcel.objects.get(order=order).tracking_no == "7731000000101"  # no ".0"
    # Row numbers are the spreadsheet's: header 1, T9 on 2, two blank rows, T10 on 5.
    assert error_rows(tmp_path / "orders.xlsx.errors.csv") == [
        {"line": "5", "field": "shipped_at", "message": "is before the order was paid (2026-03-02 11:00)"}
    ]


def test_a_workbook_row_wider_than_its_header_is_rejected(tmp_path):
    path = workbook(
        tmp_path / "regions.xlsx",
        ["province", "city", "is_remote"],
        ["西藏自治区", None, True],
        ["新疆维吾尔自治区", "", False, "extra"],
        ["青海省", "西宁", "maybe"],
    )
    status, _out, _err = run("import_regions", path)

    assert status == 1
    assert list(Region.objects.values_list("province", "is_remote")) == [("西藏自治区", True)]
    assert [(r["line"], r["field"]) for r in error_rows(tmp_path / "regions.xlsx.errors.csv")] == [("3", ""), ("4", "is_remote")]


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04 not really a zip", None],
    ids=["broken zip", "zip without a workbook"],
)
def test_a_broken_workbook_is_refused_with_a_message(tmp_path, content):
    import zipfile

    path = tmp_path / "orders.xlsx"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
    else:
        path.write_bytes(content)
    status, _out, err = run("import_orders", path)
    assert status != 0
    assert "cannot be read as an .xlsx workbook" in err
    assert "Traceback" not in err


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    path = workbook(tmp_path / "regions.xlsx", ["province", "city", "is_remote"], ["西藏自治区", None, True])
    monkeypatch.setattr(workbooks, "MAX_UNPACKED_BYTES", 1000)
    status, _out, err = run("import_regions", path)
    assert status != 0 and "unpacks to" in err
    assert not Region.objects.exists()


def test_a_header_naming_a_column_twice_is_refused(tmp_path):
    path = workbook(tmp_path / "regions.xlsx", ["province", "city", "City", "is_remote"], ["西藏自治区", "", "", True])
    status, _out, err = run("import_regions", path)
    assert status != 0 and "city" in err and "more than once" in err
