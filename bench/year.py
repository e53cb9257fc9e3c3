"""Benchmark at a year's scale (issue 17, PostgreSQL): the figures the issue's targets are about, at one size.

    flock /tmp/parcel-bench.lock .venv/bin/python bench/year.py --parcels 1000000 --events 5000000 \\
        --in-flight 300000 --save /tmp/year-1m.json
    .venv/bin/python bench/year.py --compare /tmp/year-500k.json /tmp/year-1m.json   # how each figure grows
    .venv/bin/python bench/year.py --smoke --database-url postgres://postgres@127.0.0.1:5432/pc_year_smoke

Builds the data set with bench/dataset.py's functions (COPY, secondary indexes after) into the database
`pc_year` (dropped and recreated; `--database-url` for another), after creating the monthly partitions of
every month the data covers (`event_partitions --month …`), so that every event lands in its month's
partition. On top of dataset.py's last 30 days it adds an older stretch of finished (delivered) parcels
paid in the last 30 days of the month four months back (a tenth as many), the month the retention run archives. Then prints:

1. full scan and unchanged re-scan with `--in-flight` parcels in flight (the surplus of the data set's
   unfinished parcels is set delivered), seconds and query count each;
2. every dashboard and admin page (bench/pages.py, in its own process): median, p95 and query count;
3. disk size of the events and their indexes (pg_total_relation_size summed over the partitions) per
   million events, before and after `archive_events` of the oldest month;
4. import of `--import-events` new events (bench/import_events.py's file and its `import` phase, the real
   `import_events` path with the derivation steps) into this full database vs into an empty one, the
   events dated in the data set's biggest month (its partition is the fullest one).

Every figure is printed next to the issue's target; `--save` writes them to a JSON file and `--compare A B`
says how each grew between two sizes, against how the work grew.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

import dataset  # noqa: E402 - bench/dataset.py: the builder
import import_events  # noqa: E402 - bench/import_events.py: the import file and phases
from rows import Table, reset_sequence  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pc_year"
DAY = dt.timedelta(days=1)
TARGETS = {
    "import_ratio": "import into full >= 0.8x into empty",
    "full_scan": "full scan < 10 s",
    "rescan": "unchanged re-scan < 3 s",
    "scan_queries": "query count per scan constant",
    "pages": "every page < 300 ms median",
}


def log(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:7.1f}s] {text}", flush=True)


def recreate(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def vacuum(table: str = "") -> None:
    """VACUUM ANALYZE (the visibility map for index-only scans, and statistics) outside any transaction."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"],
                         password=s["PASSWORD"] or None, autocommit=True) as conn:  # fmt: skip
        conn.execute(f'VACUUM ANALYZE "{table}"' if table else "VACUUM ANALYZE")


def months_between(first: dt.datetime, last: dt.datetime) -> list[str]:
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# -- the data ------------------------------------------------------------------------------------


def old_stretch(now: dt.datetime, n: int, first_id: int, per_parcel: int) -> tuple[int, int, str]:
    """`n` parcels' stories paid in the 30 days before the end of the month four months back, only those
    delivered by then, with ids from `first_id`: that month's events are all of finished parcels, so
    that `archive_events` may take it. Returns (parcels, events, the month)."""
    from django.db import connection

    m, _ = dataset.models()
    rng = random.Random(20251111)  # noqa: S311 - synthetic benchmark data
    shops = [(i + 1, dataset.PLATFORMS[i % 3], "mall" if i % 2 == 0 else "marketplace") for i in range(20)]
    year, month = now.year, now.month - 3
    year, month = (year - 1, month + 12) if month < 1 else (year, month)
    end = dt.datetime(year, month, 1, tzinfo=dt.UTC)  # the end of the month four months back
    stories = dataset.make_stories(rng, end, n, shops, 400)
    stories = [s for s in stories if s[10] and s[10][-1][0] == "delivered"]
    stories = [(s[0] + first_id - 1, *s[1:]) for s in stories]
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        Table(m["Order"], now=now).copy(cur, dataset.order_rows(stories))
        Table(m["Parcel"], now=now).copy(cur, dataset.parcel_rows(stories))
        events = Table(m["TrackingEvent"], now=now, with_pk=False).copy(cur, dataset.event_rows(stories, per_parcel))
        for name in ("Order", "Parcel"):
            reset_sequence(cur, m[name])
    raw.commit()
    return len(stories), events, f"{(end - DAY):%Y-%m}"


def limit_in_flight(in_flight: int | None) -> tuple[int, int]:
    """The unfinished parcels beyond `in_flight` (the highest ids) are set delivered; returns (in flight, set)."""
    from django.db import transaction

    from fulfillment.models import FINISHED_STATUSES, Parcel

    unfinished = Parcel.objects.exclude(status__in=FINISHED_STATUSES)
    count = unfinished.count()
    if in_flight is None or count <= in_flight:
        return count, 0
    cutoff = unfinished.order_by("id").values_list("id", flat=True)[in_flight]
    with transaction.atomic():
        changed = unfinished.filter(id__gte=cutoff).update(status="delivered", delivered_at=dataset_now(),
                                                           stagnation_warn_at=None, stagnation_due_at=None)  # fmt: skip
    vacuum(Parcel._meta.db_table)
    return unfinished.count(), changed


def dataset_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def build(args, started: float) -> dict:
    from django.core.management import call_command
    from django.db import connection

    now = dataset_now()
    call_command("migrate", verbosity=0, interactive=False)
    months = months_between(now - 130 * DAY, now)
    call_command("event_partitions", *sum((["--month", m] for m in months), []), stdout=open(os.devnull, "w"))  # noqa: SIM115
    log(started, f"partitions for {months[0]} … {months[-1]}; dataset.py's build of {args.parcels:,} parcels, "
                 f"{args.events:,} events")  # fmt: skip
    dataset.build(argparse.Namespace(parcels=args.parcels, events=args.events, open_alerts=args.open_alerts))
    connection.close()  # dataset.build leaves its raw connection in autocommit behind Django's back
    per_parcel = args.events // args.parcels
    kept, events, month = old_stretch(now, args.old_parcels, args.parcels + 1, per_parcel)
    log(started, f"older finished stretch: {kept:,} delivered parcels, {events:,} events, paid in the 30 days to the "
                 f"end of {month}")  # fmt: skip
    vacuum()
    in_flight, delivered = limit_in_flight(args.in_flight)
    log(started, f"in flight: {in_flight:,} parcels ({delivered:,} of the data set's unfinished ones set delivered)")
    return {"now": now, "in_flight": in_flight, "oldest": month}


# -- the figures ---------------------------------------------------------------------------------


def timed_scan(label: str, now: dt.datetime) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.services import scan

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        report = scan(now=now)
        seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.2f} s, {len(captured)} queries; raised {report.raised:,}, "
          f"upgraded {report.upgraded:,}, resolved {report.resolved:,}")  # fmt: skip
    return {"seconds": seconds, "queries": len(captured), "raised": report.raised}


def scans(now: dt.datetime) -> dict:
    from monitoring.models import Alert

    Alert.objects.all().delete()  # a full scan: every alert raised afresh
    full = timed_scan("full scan", now)
    again = timed_scan("unchanged re-scan", now)
    return {"full": full, "rescan": again}


def pages(url: str, n: int) -> list[dict]:
    out = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(BENCH / "pages.py"), "-n", str(n), "--database-url", url],
        cwd=ROOT, check=True, capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url},
    )  # fmt: skip
    print("\n".join("  " + line for line in out.stdout.splitlines()))
    rows = []
    for line in out.stdout.splitlines():
        parts = line[40:].split()
        if len(parts) >= 5 and parts[0].isdigit() and len(parts[0]) == 3:
            rows.append({"page": line[:40].strip(), "status": int(parts[0]), "median": float(parts[1]),
                         "p95": float(parts[2]), "queries": int(parts[3])})  # fmt: skip
    return rows


def events_size() -> dict:
    from django.db import connection

    from fulfillment.models import TrackingEvent

    table = TrackingEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0), coalesce(sum(pg_indexes_size(i.inhrelid)), 0), "
            "count(*) FROM pg_inherits i WHERE i.inhparent = %s::regclass",
            [table],
        )
        total, indexes, partitions = map(int, cursor.fetchone())
    events = TrackingEvent.objects.count()
    per_million = total / max(events, 1) * 1e6 / 2**20
    print(f"  {events:,} events in {partitions} partitions: {total / 2**20:,.0f} MB with indexes "
          f"({indexes / 2**20:,.0f} MB of indexes) = {per_million:,.0f} MB per million events")  # fmt: skip
    return {"events": events, "mb": total / 2**20, "index_mb": indexes / 2**20, "mb_per_million": per_million}


def retention(directory: str, month: str) -> dict:
    """`archive_events` of the older stretch's month (the oldest month that holds events)."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("archive_events", month=month, to=directory, stdout=open(os.devnull, "w"))  # noqa: SIM115
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in Path(directory).glob("*.gz"))
    print(f"  archive_events --month {month}: {seconds:.1f} s, file {size / 2**20:,.1f} MB")
    return {"month": month, "seconds": seconds}


def import_parcels(url: str, parcels: int) -> None:
    """One shipped parcel per tracking number of import_events.py's file, loaded with COPY."""
    from django.db import connection

    from fulfillment.models import Carrier, Order, Parcel, Shop

    carrier, _ = Carrier.objects.get_or_create(code=import_events.CARRIER, defaults={"name": "YTO"})
    shop, _ = Shop.objects.get_or_create(code="bench-import", defaults={"name": "Bench import", "platform": "tmall",
                                                                        "seller_tier": "mall"})  # fmt: skip
    first = (Parcel.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    first_order = (Order.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    paid = import_events.BASE.replace(tzinfo=dt.UTC) - dt.timedelta(hours=6)
    now = dt.datetime.now(dt.UTC)
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        Table(Order, now=now).copy(cur, (
            {"id": first_order + k, "shop_id": shop.pk, "platform": "tmall", "seller_tier": "mall",
             "order_id": f"YI{k:09d}", "paid_at": paid, "amount": 99, "origin_province": "浙江省",
             "dest_province": "广东省", "dest_city": "深圳市", "created_at": paid} for k in range(parcels)))  # fmt: skip
        Table(Parcel, now=now).copy(cur, (
            {"id": first + k, "order_id": first_order + k, "shop_id": shop.pk, "platform": "tmall",
             "carrier_id": carrier.pk, "tracking_no": import_events.tracking_no(k), "status": "shipped",
             "paid_at": paid, "shipped_at": paid + dt.timedelta(hours=1), "created_at": paid, "updated_at": paid}
            for k in range(parcels)))  # fmt: skip
        reset_sequence(cur, Order)
        reset_sequence(cur, Parcel)
    raw.commit()
    vacuum()


def import_into(url: str, csv_path: Path) -> dict:
    result = import_events.run_phase("import", url, csv_path)
    rate = result["read"] / result["seconds"]
    print(f"    {result['read']:,} rows in {result['seconds']:.1f} s = {rate:,.0f} events/s; inserted "
          f"{result['inserted']:,}, rejected {result['rejected']:,}; {result['events_in_table']:,} events in the table")  # fmt: skip
    return {"seconds": result["seconds"], "rate": rate, "inserted": result["inserted"]}


def imports(url: str, args, now: dt.datetime, workdir: Path, started: float) -> dict:
    """The same file into this database and into an empty one (migrated, the same parcels, no history)."""
    from django.core.management import call_command
    from django.db import connection

    # Events in the data set's biggest month, some days after its first: its partition is the fullest.
    base = (now - 20 * DAY).replace(tzinfo=None)
    import_events.BASE = base
    parcels = max(1, args.import_events // 5)
    csv_path = workdir / "import.csv"
    import_events.generate_csv(csv_path, events=args.import_events, parcels=parcels)
    import_parcels(url, parcels)
    log(started, f"import of {args.import_events:,} new events over {parcels:,} parcels, dated from {base:%Y-%m-%d}")
    print("  into the full database:")
    full = import_into(url, csv_path)

    empty_url = urlparse(url)._replace(path=urlparse(url).path + "_empty").geturl()
    recreate(empty_url)
    connection.close()
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = urlparse(empty_url).path.lstrip("/")
    try:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("event_partitions", "--month", f"{base:%Y-%m}", stdout=open(os.devnull, "w"))  # noqa: SIM115
        import_parcels(empty_url, parcels)
        print("  into an empty database:")
        empty = import_into(empty_url, csv_path)
    finally:
        connection.close()
        settings.DATABASES["default"]["NAME"] = urlparse(url).path.lstrip("/")
        import psycopg

        with psycopg.connect(urlparse(url)._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{urlparse(empty_url).path.lstrip("/")}" WITH (FORCE)')
    return {"full": full, "empty": empty, "ratio": full["rate"] / empty["rate"]}


# -- the report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def summary(figures: dict) -> None:
    scan, rows, imp = figures["scan"], figures["pages"], figures["import"]
    print(f"\nSUMMARY {figures['parcels']:,} parcels, {figures['events']:,} events, {figures['in_flight']:,} in flight")
    print(f"  import into full / into empty: {imp['ratio']:.2f}x  "
          f"({imp['full']['rate']:,.0f} vs {imp['empty']['rate']:,.0f} events/s)  "
          f"target: {TARGETS['import_ratio']}: {verdict(imp['ratio'] >= 0.8)}")  # fmt: skip
    print(f"  full scan: {scan['full']['seconds']:.2f} s, {scan['full']['queries']} queries  "
          f"target: {TARGETS['full_scan']}: {verdict(scan['full']['seconds'] < 10)}")  # fmt: skip
    print(f"  unchanged re-scan: {scan['rescan']['seconds']:.2f} s, {scan['rescan']['queries']} queries  "
          f"target: {TARGETS['rescan']}: {verdict(scan['rescan']['seconds'] < 3)}")  # fmt: skip
    print(f"  queries per scan: full {scan['full']['queries']}, re-scan {scan['rescan']['queries']}  "
          f"target: {TARGETS['scan_queries']}: whether it stays so from size to size is --compare's line")  # fmt: skip
    slowest = max(rows, key=lambda r: r["median"]) if rows else {"page": "-", "median": 0, "queries": 0}
    over = [r["page"] for r in rows if r["median"] >= 300 or r["status"] != 200]
    print(f"  pages: {len(rows)}, slowest median {slowest['median']:.1f} ms ({slowest['page']}), most queries "
          f"{max((r['queries'] for r in rows), default=0)}  target: {TARGETS['pages']}: {verdict(not over)}"
          + (f" (over: {', '.join(over)})" if over else ""))  # fmt: skip
    before, after = figures["size_before"], figures["size_after"]
    print(f"  events + indexes per million: {before['mb_per_million']:,.0f} MB before retention, "
          f"{after['mb_per_million']:,.0f} MB after ({before['mb']:,.0f} → {after['mb']:,.0f} MB in all; "
          f"{figures['retention']['month']} archived)")  # fmt: skip


def growth(first: dict, second: dict) -> None:
    """How each figure grew from one size to the other, next to how the work grew."""
    work = second["parcels"] / first["parcels"]
    print(f"from {first['parcels']:,} to {second['parcels']:,} parcels ({work:.2f}x the parcels, "
          f"{second['events'] / first['events']:.2f}x the events, {second['in_flight'] / max(first['in_flight'], 1):.2f}x in flight)")  # fmt: skip

    def line(name, a, b, unit=""):
        ratio = b / a if a else float("inf")
        note = ("flat" if ratio < 1.25 else "grows less than the work" if ratio < work * 0.9
                else "grows with the work" if ratio <= work * 1.1 else "GROWS MORE than the work")  # fmt: skip
        print(f"  {name:44} {a:>10.2f}{unit} → {b:>10.2f}{unit}  {ratio:5.2f}x  {note}")

    line("import into the full database, µs per event", 1e6 / first["import"]["full"]["rate"],
         1e6 / second["import"]["full"]["rate"])  # fmt: skip
    line("import into an empty database, µs per event", 1e6 / first["import"]["empty"]["rate"],
         1e6 / second["import"]["empty"]["rate"])  # fmt: skip
    print(f"  {'import ratio full / empty':44} {first['import']['ratio']:>10.2f} → {second['import']['ratio']:>10.2f}")
    line("full scan (s)", first["scan"]["full"]["seconds"], second["scan"]["full"]["seconds"])
    line("unchanged re-scan (s)", first["scan"]["rescan"]["seconds"], second["scan"]["rescan"]["seconds"])
    line("queries per full scan", first["scan"]["full"]["queries"], second["scan"]["full"]["queries"])
    line("events + indexes MB per million", first["size_before"]["mb_per_million"], second["size_before"]["mb_per_million"])
    pages_b = {r["page"]: r for r in second["pages"]}
    for row in first["pages"]:
        other = pages_b.get(row["page"])
        if other:
            line(f"{row['page'][:32]} median ms", row["median"], other["median"])
            if other["queries"] != row["queries"]:
                print(f"  {'':44} queries {row['queries']} → {other['queries']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--in-flight", type=int, default=None, help="parcels in flight at the scan (default: as built)")
    parser.add_argument("--open-alerts", type=int, default=None, help="default: a tenth of the parcels")
    parser.add_argument("--old-parcels", type=int, default=None, help="the older finished stretch (default: a tenth)")
    parser.add_argument("--import-events", type=int, default=1_000_000)
    parser.add_argument("-n", type=int, default=5, help="requests per page")
    parser.add_argument("--save", help="write the figures to this JSON file")
    parser.add_argument("--compare", nargs=2, metavar="JSON", help="how each figure grew between two saved runs")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (500 parcels, 2,500 events): seconds")
    args = parser.parse_args()
    if args.compare:
        growth(*(json.loads(Path(p).read_text()) for p in args.compare))
        return
    if args.smoke:
        args.parcels, args.events, args.in_flight, args.import_events, args.n = 500, 2500, 100, 1000, 1
    args.open_alerts = args.open_alerts if args.open_alerts is not None else max(10, args.parcels // 10)
    args.old_parcels = args.old_parcels if args.old_parcels is not None else max(50, args.parcels // 10)
    if not args.database_url.startswith("postgres"):
        parser.error("the year-scale benchmark needs PostgreSQL")

    started = time.monotonic()
    recreate(args.database_url)
    django_setup(args.database_url)
    built = build(args, started)
    figures = {"parcels": args.parcels, "events": args.events, "in_flight": built["in_flight"]}
    log(started, "scans")
    figures["scan"] = scans(built["now"])
    log(started, f"pages (bench/pages.py -n {args.n})")
    figures["pages"] = pages(args.database_url, args.n)
    log(started, "events and their indexes on disk, before retention")
    figures["size_before"] = events_size()
    with tempfile.TemporaryDirectory(prefix="bench-year-") as tmp:
        log(started, "retention of the oldest month")
        figures["retention"] = retention(tmp, built["oldest"])
        figures["size_after"] = events_size()
        figures["import"] = imports(args.database_url, args, built["now"], Path(tmp), started)
    summary(figures)
    log(started, "done")
    if args.save:
        Path(args.save).write_text(json.dumps(figures, indent=1, default=str))
        print(f"figures saved to {args.save}")


if __name__ == "__main__":
    main()
