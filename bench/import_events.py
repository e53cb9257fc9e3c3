"""Benchmark: import_events throughput and memory on SQLite and PostgreSQL (not a test).

    .venv/bin/python bench/import_events.py [--events N] [--parcels M] [--database sqlite|postgres|both]
    .venv/bin/python bench/import_events.py --smoke --database sqlite     # 1,000 events: seconds

Generates N tracking events (default 1,000,000 over 200,000 parcels) into a CSV, creates the
parcels in a fresh database (SQLite: a temp file; PostgreSQL: the database `pc_a_bench`, or
`--postgres-url`), imports
the file through the real `import_events` code path (`run_import(EventImporter())`, including the
derivation steps of the other apps: back-dating and deadlines), and prints events/s and the peak resident memory
of the importing process. As the physical reference, the same rows are then loaded bare into an
unindexed table (PostgreSQL: `COPY … FROM STDIN` of the file's bytes; SQLite: `executemany` of the
parsed rows in one transaction) and the ratio is printed; last, the floor of the events table itself
(the staged rows stored with one INSERT … SELECT, with its indexes and foreign keys and nothing else),
which bounds what any import through that table can reach. Each phase runs in its own process so
that the peak memory is the import's own. Run it under `flock /tmp/parcel-bench.lock`.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from rows import Table, column, table  # bench/rows.py: columns from the models' own field list

ROOT = Path(__file__).resolve().parent.parent
PG_BENCH_URL = "postgres://postgres@127.0.0.1:5432/pc_a_bench"
CARRIER = "YTO"
CODES = ["picked_up", "in_transit", "arrived_sorting_centre", "in_transit", "out_for_delivery", "delivered", "info"]
LOCATIONS = ["杭州转运中心", "义乌分拨中心", "深圳转运中心", "广州白云区营业部", "上海浦东新区网点", "北京顺义分拨中心"]
BASE = datetime.datetime(2026, 3, 2, 8, 0, 0)


def tracking_no(parcel: int) -> str:
    return f"YT9{parcel:09d}"


def generate_csv(path: Path, *, events: int, parcels: int, order: str = "parcel") -> None:
    """`order="parcel"`: each parcel's events together (a carrier's tracking-history export);
    `order="feed"`: every parcel's k-th event, then every parcel's (k+1)-th (a push feed)."""
    per_parcel = -(-events // parcels)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["carrier_code", "tracking_no", "code", "occurred_at", "location", "description", "outlet_code"])
        for i in range(events):
            if order == "feed":
                parcel, step = i % parcels, i // parcels
            else:
                parcel, step = i // per_parcel, i % per_parcel
            code = CODES[step % len(CODES)]
            moment = BASE + datetime.timedelta(minutes=parcel % 720, hours=6 * step, seconds=step)
            writer.writerow(
                [
                    CARRIER,
                    tracking_no(parcel),
                    code,
                    moment.isoformat(sep=" "),
                    LOCATIONS[(parcel + step) % len(LOCATIONS)],
                    "快件已发往下一站" if code == "in_transit" else "",
                    f"OUT{parcel % 500:04d}" if step == 0 else "",
                ]
            )


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def phase_setup(database_url: str, parcels: int) -> dict:
    """Migrate a fresh database and create one shipped Tmall parcel (and its order) per tracking number."""
    django_setup(database_url)
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from fulfillment.models import Carrier, Order, Parcel, ParcelStatus, Shop

    call_command("migrate", verbosity=0)
    shop = Shop.objects.create(code="bench-shop", name="Bench", platform="tmall", seller_tier="mall")
    carrier = Carrier.objects.create(code=CARRIER, name="YTO")
    paid = timezone.make_aware(BASE - datetime.timedelta(hours=6), datetime.UTC)
    chunk = 5000
    for start in range(0, parcels, chunk):
        with transaction.atomic():
            orders = Order.objects.bulk_create(
                Order(shop=shop, platform="tmall", seller_tier="mall", order_id=f"B{n:09d}", paid_at=paid,
                      amount=Decimal("99.00"), origin_province="浙江省", dest_province="广东省", dest_city="深圳市")
                for n in range(start, min(start + chunk, parcels))
            )
            Parcel.objects.bulk_create(
                Parcel(order=o, shop=shop, platform="tmall", carrier=carrier, tracking_no=tracking_no(start + i),
                       paid_at=paid, shipped_at=paid + datetime.timedelta(hours=1), status=ParcelStatus.SHIPPED)
                for i, o in enumerate(orders)
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"parcels": Parcel.objects.count()}


def phase_import(database_url: str, csv_path: str, *, receivers: bool = True) -> dict:
    django_setup(database_url)
    from django.db import connection

    if not receivers:
        # fulfillment's own work only: no derivation steps (no back-dating, no deadlines)
        from django.conf import settings

        from fulfillment import derivations

        settings.PARCEL_DERIVATION_STEPS = []
        derivations.steps.cache_clear()

    from fulfillment.importers import EventImporter, run_import
    from fulfillment.models import TrackingEvent

    devnull = open(os.devnull, "w")  # noqa: SIM115
    started = time.perf_counter()
    report = run_import(EventImporter(), csv_path, stdout=devnull, stderr=devnull,
                        errors_path=str(Path(csv_path).with_suffix(".errors.csv")))
    seconds = time.perf_counter() - started
    return {
        "vendor": connection.vendor,
        "seconds": seconds,
        "read": report.read,
        "inserted": report.inserted,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "events_in_table": TrackingEvent.objects.count(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def phase_import_only(database_url: str, csv_path: str) -> dict:
    return phase_import(database_url, csv_path, receivers=False)


def phase_reset(database_url: str, _arg) -> dict:
    """Back to the state after setup: no events, no outlets, parcels shipped without milestones."""
    django_setup(database_url)
    from django.db import connection, transaction

    from fulfillment.models import CarrierOutlet, Parcel, ParcelStatus, TrackingEvent

    events = table(TrackingEvent)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {events}" if connection.vendor == "sqlite" else f"TRUNCATE {events}")
        Parcel.objects.update(
            status=ParcelStatus.SHIPPED, picked_up_at=None, sorting_centre_at=None, out_for_delivery_at=None,
            delivered_at=None, last_event_at=None, outlet=None,
        )
        CarrierOutlet.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table(Parcel)}")
            cursor.execute(f"VACUUM ANALYZE {events}")
    return {"events": TrackingEvent.objects.count()}


def phase_bare(database_url: str, csv_path: str) -> dict:
    """The physical reference: the same rows into an unindexed table, no validation, no joins."""
    django_setup(database_url)
    from django.db import connection, transaction

    columns = "carrier_code text, tracking_no text, code text, occurred_at text, location text, description text, outlet_code text"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_events")
        cursor.execute(f"CREATE TABLE bench_bare_events ({columns})")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bench_bare_events FROM STDIN (FORMAT csv, HEADER true)") as copy, open(
                csv_path, "rb"
            ) as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        else:
            with open(csv_path, encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                next(reader)
                cursor.cursor.executemany("INSERT INTO bench_bare_events VALUES (?, ?, ?, ?, ?, ?, ?)", reader)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_bare_events")
        (rows,) = cursor.fetchone()
        cursor.execute("DROP TABLE bench_bare_events")
    return {"seconds": seconds, "rows": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def phase_floor(database_url: str, csv_path: str) -> dict:
    """The events table's own floor: the file's rows, already staged and matched to their parcels,
    stored with one `INSERT … SELECT … ON CONFLICT DO NOTHING` (the table's unique index, primary key
    and foreign-key checks; no validation, no milestones, no deadlines). Empties the events table."""
    django_setup(database_url)
    from django.db import connection, transaction

    from fulfillment.models import Carrier, Parcel, TrackingEvent

    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor_stage")
        cursor.execute(
            "CREATE TABLE bench_floor_stage (carrier_code text, tracking_no text, code text, occurred_at text, "
            "location text, description text, outlet_code text)"
        )
        if postgres:
            with cursor.cursor.copy("COPY bench_floor_stage FROM STDIN (FORMAT csv, HEADER true)") as copy, open(
                csv_path, "rb"
            ) as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            cursor.execute("UPDATE bench_floor_stage SET description = '' WHERE description IS NULL")
            cursor.execute("ANALYZE bench_floor_stage")
            cursor.execute(f"TRUNCATE {table(TrackingEvent)}")
        else:
            with open(csv_path, encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                next(reader)
                cursor.cursor.executemany("INSERT INTO bench_floor_stage VALUES (?, ?, ?, ?, ?, ?, ?)", reader)
            cursor.execute(f"DELETE FROM {table(TrackingEvent)}")
    moment = "s.occurred_at::timestamptz" if postgres else "s.occurred_at"
    # Every column of the events table from its model's field list; those the file lacks get their empty value.
    columns, select, params = Table(TrackingEvent, now=datetime.datetime.now(datetime.UTC), with_pk=False).select(
        {"parcel_id": f"p.{column(Parcel, 'id')}", "code": "s.code", "occurred_at": moment, "location": "s.location",
         "description": "s.description", "outlet_id": "NULL", "imported_at": "CURRENT_TIMESTAMP"}
    )  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL TimeZone TO 'Asia/Shanghai'; SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"INSERT INTO {table(TrackingEvent)} ({columns}) SELECT {select} FROM bench_floor_stage s "
            f"JOIN {table(Carrier)} c ON c.{column(Carrier, 'code')} = s.carrier_code "
            f"JOIN {table(Parcel)} p ON p.{column(Parcel, 'carrier')} = c.{column(Carrier, 'id')} "
            f"AND p.{column(Parcel, 'tracking_no')} = s.tracking_no "
            "ON CONFLICT DO NOTHING",
            params,
        )
        rows = cursor.rowcount
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor_stage")
    return {"seconds": seconds, "rows": rows}


PHASES = {
    "setup": phase_setup,
    "import": phase_import,
    "import_only": phase_import_only,
    "reset": phase_reset,
    "bare": phase_bare,
    "floor": phase_floor,
}


def run_phase(phase: str, database_url: str, arg) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--_phase", phase, "--_url", database_url, "--_arg", str(arg)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def pg_recreate(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def bench_database(kind: str, csv_path: Path, *, events: int, parcels: int, workdir: Path, pg_url: str) -> None:
    if kind == "postgres":
        url = pg_url
        label = f"PostgreSQL (database {pg_recreate(url)})"
    else:
        db = workdir / "bench.sqlite3"
        db.unlink(missing_ok=True)
        url = f"sqlite:///{db}"
        label = f"SQLite ({db})"
    print(f"\n== {label}")
    setup = run_phase("setup", url, parcels)
    print(f"   {setup['parcels']:,} parcels created")

    def show(title, result):
        rate = result["read"] / result["seconds"]
        print(
            f"   {title}: {result['read']:,} rows in {result['seconds']:.1f} s = {rate:,.0f} events/s; "
            f"inserted {result['inserted']:,}, unchanged {result['unchanged']:,}, rejected {result['rejected']:,}; "
            f"peak memory {result['peak_rss_mb']:.0f} MB (max RSS of the importing process)"
        )
        return rate

    own = show("import_events, fulfillment's own work (no derivation steps)", run_phase("import_only", url, csv_path))
    show("re-run of the same file (no-op)", run_phase("import", url, csv_path))
    run_phase("reset", url, None)
    show("import_events, real path incl. derivation steps (pickups back-dating + monitoring deadlines)", run_phase("import", url, csv_path))
    bare = run_phase("bare", url, csv_path)
    bare_rate = bare["rows"] / bare["seconds"]
    how = "COPY of the file into an unindexed table" if kind == "postgres" else "executemany into an unindexed table"
    print(f"   bare load ({how}): {bare['rows']:,} rows in {bare['seconds']:.1f} s = {bare_rate:,.0f} rows/s")
    print(f"   ratio import (own work) / bare load: {own / bare_rate:.2f}x")
    floor = run_phase("floor", url, csv_path)
    floor_rate = floor["rows"] / floor["seconds"]
    print(
        f"   floor of the events table (staged rows stored by one INSERT … SELECT: unique index, keys, foreign keys; "
        f"nothing else): {floor['rows']:,} rows in {floor['seconds']:.1f} s = {floor_rate:,.0f} rows/s "
        f"= {floor_rate / bare_rate:.2f}x the bare load"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--order", choices=["parcel", "feed"], default="parcel",
        help="parcel: each parcel's events together (history export, default); feed: interleaved (push feed)",
    )
    parser.add_argument("--postgres-url", default=PG_BENCH_URL, help="the PostgreSQL database (dropped and recreated)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (1,000 events over 200 parcels): seconds")
    parser.add_argument("--_phase", help=argparse.SUPPRESS)
    parser.add_argument("--_url", help=argparse.SUPPRESS)
    parser.add_argument("--_arg", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args._phase:
        arg = int(args._arg) if args._phase == "setup" else args._arg
        print(json.dumps(PHASES[args._phase](args._url, arg)))
        return
    if args.smoke:
        args.events, args.parcels = 1000, 200

    with tempfile.TemporaryDirectory(prefix="bench-import-events-") as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "events.csv"
        started = time.perf_counter()
        generate_csv(csv_path, events=args.events, parcels=args.parcels, order=args.order)
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"generated {args.events:,} events over {args.parcels:,} parcels ({args.order} order): {csv_path.name}, {size_mb:.0f} MB, "
            f"{time.perf_counter() - started:.1f} s"
        )
        kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
        for kind in kinds:
            bench_database(
                kind, csv_path, events=args.events, parcels=args.parcels, workdir=workdir, pg_url=args.postgres_url
            )


if __name__ == "__main__":
    main()
