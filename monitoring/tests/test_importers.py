"""import_tickets and import_route_standards as an operator runs them."""

import datetime
import io
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fulfillment.tests.factories import OrderFactory, ParcelFactory, ShopFactory
from monitoring.deadlines import recompute_deadlines
from monitoring.models import Alert, AlertKind, Complaint, RouteStandard, SlaPolicy, StagnationTicket
from monitoring.services import scan

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
H = datetime.timedelta(hours=1)
TICKETS = "platform,order_id,tracking_no,opened_at,kind\n"


def run(command: str, path: Path, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)


@pytest.fixture
def parcels():
    shop = ShopFactory(code="tm", platform="tmall")
    order = OrderFactory(shop=shop, order_id="TM-1", paid_at=datetime.datetime(2026, 3, 2, 10, tzinfo=SH))
    one = ParcelFactory(order=order, picked_up=True, tracking_no="YT0001")
    two = ParcelFactory(order=order, picked_up=True, tracking_no="YT0002")
    single = ParcelFactory(order=OrderFactory(shop=shop, order_id="TM-2", amount=Decimal("50")), picked_up=True)
    return one, two, single


def test_tickets_and_complaints(tmp_path, parcels):
    one, two, single = parcels
    path = tmp_path / "tickets.csv"
    path.write_text(
        TICKETS
        + "tmall,TM-1,YT0001,2026-03-04 09:00,stagnation\n"
        + "tmall,TM-1,YT0002,2026-03-04T01:00:00Z,false_signoff\n"
        + "tmall,TM-2,,2026-03-04 10:00,stagnation\n",
        encoding="utf-8",
    )
    status, out, err = run("import_tickets", path)
    assert status == 0, err
    ticket = StagnationTicket.objects.get(parcel=one)
    opened = datetime.datetime(2026, 3, 4, 9, tzinfo=SH)
    assert (ticket.opened_at, ticket.response_warn_at, ticket.response_due_at) == (
        opened,
        opened + 16 * H,
        opened + 24 * H,
    )
    assert StagnationTicket.objects.filter(parcel=single).exists()  # untracked row, one parcel on the order
    assert Complaint.objects.get(parcel=two).opened_at == opened
    # The scan raises what the platform opened.
    scan(now=opened + 17 * H)
    assert Alert.objects.get(parcel=one, kind=AlertKind.TICKET_RESPONSE_OVERDUE).level == "warning"
    assert Alert.objects.get(parcel=two, kind=AlertKind.FALSE_SIGNOFF).level == "overdue"
    # Re-running the file changes nothing.
    status, out, err = run("import_tickets", path)
    assert status == 0
    assert StagnationTicket.objects.count() == 2 and Complaint.objects.count() == 1
    assert "inserted 0" in out + err and "unchanged 3" in out + err


def test_ticket_response_hours_from_the_policy(tmp_path, parcels):
    one, _, _ = parcels
    SlaPolicy.objects.filter(code="tmall").update(ticket_warn_hours=10, ticket_response_hours=12)
    path = tmp_path / "t.csv"
    path.write_text(TICKETS + "tmall,TM-1,YT0001,2026-03-04 09:00,stagnation\n", encoding="utf-8")
    assert run("import_tickets", path)[0] == 0
    ticket = StagnationTicket.objects.get(parcel=one)
    assert ticket.response_due_at - ticket.opened_at == 12 * H
    assert ticket.response_warn_at - ticket.opened_at == 10 * H


def test_bad_rows_are_reported_and_the_rest_applied(tmp_path, parcels):
    path = tmp_path / "t.csv"
    errors = tmp_path / "errors.csv"
    path.write_text(
        TICKETS
        + "tmall,TM-404,,2026-03-04 09:00,stagnation\n"  # unknown order
        + "tmall,TM-1,,2026-03-04 09:00,stagnation\n"  # two parcels: which one?
        + "tmall,TM-1,YT9999,2026-03-04 09:00,stagnation\n"  # not a parcel of that order
        + "tmall,TM-1,YT0001,2026-03-04,stagnation\n"  # no time
        + "tmall,TM-1,YT0001,2026-03-04 09:00,refund\n"  # unknown kind
        + "tmall,TM-1,YT0001,2026-03-04 09:00,stagnation\n",  # good
        encoding="utf-8",
    )
    status, out, err = run("import_tickets", path, "--errors", str(errors))
    assert status == 1
    assert StagnationTicket.objects.count() == 1
    report = errors.read_text(encoding="utf-8")
    for line, field in ((2, "order_id"), (3, "tracking_no"), (4, "tracking_no"), (5, "opened_at"), (6, "kind")):
        assert f"{line},{field}," in report


def test_gb18030_file(tmp_path, parcels):
    path = tmp_path / "t.csv"
    path.write_bytes((TICKETS + "tmall,TM-1,YT0001,2026-03-04 09:00,stagnation\n").encode("gb18030"))
    assert run("import_tickets", path)[0] == 0
    assert StagnationTicket.objects.count() == 1


def test_dry_run_writes_nothing(tmp_path, parcels):
    path = tmp_path / "t.csv"
    path.write_text(TICKETS + "tmall,TM-1,YT0001,2026-03-04 09:00,stagnation\n", encoding="utf-8")
    assert run("import_tickets", path, "--dry-run")[0] == 0
    assert not StagnationTicket.objects.exists()


def test_route_standards_and_route_deadlines(tmp_path, parcels):
    one, _, _ = parcels
    recompute_deadlines(parcel_ids=[one.pk])
    one.refresh_from_db()
    assert one.route_due_at is None
    path = tmp_path / "routes.csv"
    path.write_text(
        "origin_province,dest_province,days\n浙江省,广东省,2\n浙江省,西藏自治区,6\n浙江省,广东省,3\n浙江省,,2\n",
        encoding="utf-8",
    )
    status, out, err = run("import_route_standards", path)
    assert status == 1  # the empty destination is rejected, the rest applied
    assert RouteStandard.objects.get(origin_province="浙江省", dest_province="广东省").days == 3  # later row wins
    one.refresh_from_db()
    assert one.route_due_at == one.picked_up_at + datetime.timedelta(days=6)
    path.write_text("origin_province,dest_province,days\n浙江省,广东省,3\n浙江省,西藏自治区,6\n", encoding="utf-8")
    status, out, err = run("import_route_standards", path)
    assert status == 0 and "unchanged 2" in out + err


def test_missing_column_refuses_the_file(tmp_path):
    path = tmp_path / "routes.csv"
    path.write_text("origin_province,days\n浙江省,2\n", encoding="utf-8")
    status, out, err = run("import_route_standards", path)
    assert status != 0 and "dest_province" in err
    assert not RouteStandard.objects.exists()


def test_a_region_turned_remote_moves_the_stagnation_deadlines_of_its_running_parcels(tmp_path):
    shop = ShopFactory(code="tm-r", platform="tmall")

    def bound_for(province, city, **fields):
        order = OrderFactory(shop=shop, dest_province=province, dest_city=city)
        return ParcelFactory(order=order, picked_up=True, **fields)

    lhasa, ganzi, chengdu = bound_for("西藏自治区", "拉萨市"), bound_for("四川省", "甘孜藏族自治州"), bound_for("四川省", "成都市")
    recompute_deadlines(parcel_ids=[lhasa.pk, ganzi.pk, chengdu.pk])
    regions = tmp_path / "regions.csv"
    regions.write_text("province,city,is_remote\n西藏自治区,,true\n四川省,甘孜藏族自治州,1\n", encoding="utf-8")

    status, out, _ = run("import_regions", regions)

    assert status == 0 and "inserted 2" in out
    for parcel, hours in ((lhasa, 96), (ganzi, 96), (chengdu, 72)):
        parcel.refresh_from_db()
        assert parcel.stagnation_due_at == parcel.last_event_at + hours * H, parcel.order.dest_city

    # Back to not remote: the deadline follows again; a re-import of the same file changes nothing.
    regions.write_text("province,city,is_remote\n西藏自治区,,false\n", encoding="utf-8")
    run("import_regions", regions)
    lhasa.refresh_from_db()
    assert lhasa.stagnation_due_at == lhasa.last_event_at + 72 * H
    status, out, _ = run("import_regions", regions)
    assert "unchanged 1" in out
