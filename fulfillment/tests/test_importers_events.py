"""`import_events`: tracking events in, milestones, outlets and status of the parcels out; interrupted imports."""

import csv
import datetime
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from fulfillment.importers.events import EventImporter
from fulfillment.models import CarrierOutlet, ImportRun, Parcel, ParcelStatus, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import EVENT_HEADER, ROOT, UTC, at, error_rows, events_file, run, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_parcel():
    return ParcelFactory(
        shipped=True,
        carrier=CarrierFactory(code="YTO"),
        tracking_no="YT100",
        order=OrderFactory(paid_at=at("2026-03-02 08:00")),
        shipped_at=at("2026-03-02 09:00"),
    )


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
