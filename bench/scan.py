"""Benchmark the monitoring scan: N parcels in a realistic mix of states, a full scan, an unchanged re-scan.

    flock /tmp/parcel-bench.lock .venv/bin/python bench/scan.py --db sqlite   --parcels 1000000
    flock /tmp/parcel-bench.lock .venv/bin/python bench/scan.py --db postgres --parcels 1000000
    .venv/bin/python bench/scan.py --smoke --database-url sqlite:////tmp/x.sqlite3   # 300 parcels: seconds

Not a test: it prints figures. Targets (PostgreSQL, 1,000,000 parcels): full scan < 10 s, unchanged
re-scan < 3 s, memory flat (the scan never loads parcels into Python).

The data set is built in its own database (SQLite: /tmp/pc_b_bench.sqlite3; PostgreSQL: pc_b_bench,
created if missing), wiped first. Rows are generated in Python (seeded) and written in bulk —
`COPY … FROM STDIN` on PostgreSQL, `executemany` on SQLite, each row from the models' own field list
(bench/rows.py), so a column added later cannot break it — then every deadline is computed by
`recompute_deadlines()` (timed too). Parcels are paid over the 14 days before a fixed instant NOW; their
milestones follow at random but plausible intervals, so that every rule has parcels before, inside
and past its thresholds, and most parcels are delivered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from rows import Table, reset_sequence  # bench/rows.py: rows from the models' own field list

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URLS = {
    "sqlite": "sqlite:////tmp/pc_b_bench.sqlite3",
    "postgres": "postgres://postgres@127.0.0.1:5432/pc_b_bench",
}
NOW = dt.datetime(2026, 3, 16, 12, 0, tzinfo=dt.UTC)
PROVINCES = [
    ("广东省", "深圳市"), ("广东省", "广州市"), ("浙江省", "杭州市"), ("江苏省", "南京市"), ("上海市", "上海市"),
    ("北京市", "北京市"), ("四川省", "成都市"), ("四川省", "甘孜藏族自治州"), ("湖北省", "武汉市"),
    ("西藏自治区", "拉萨市"), ("新疆维吾尔自治区", "乌鲁木齐市"), ("山东省", "青岛市"),
]  # fmt: skip
ORIGINS = ["浙江省", "广东省", "江苏省"]
SHOPS = [  # code, platform, tier
    ("tm-flagship", "tmall", "mall"), ("tm-outlet", "tmall", "mall"), ("tb-home", "taobao", "marketplace"),
    ("tb-gadgets", "taobao", "marketplace"), ("tb-books", "taobao", "marketplace"),
    ("lz-mall", "lazada", "mall"), ("lz-market", "lazada", "marketplace"),
]  # fmt: skip
H = dt.timedelta(hours=1)


def rss_mb() -> float:
    """Current resident memory (Linux), else the peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if url.startswith("postgres"):
        import psycopg

        parsed = urlparse(url)
        name = parsed.path.lstrip("/")
        with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def wipe() -> None:
    from django.apps import apps
    from django.db import connection

    models = [
        ("monitoring", "Alert"), ("monitoring", "StagnationTicket"), ("monitoring", "Complaint"),
        ("monitoring", "RouteStandard"), ("fulfillment", "TrackingEvent"), ("pickups", "HandoverItem"),
        ("pickups", "BagItem"), ("fulfillment", "Parcel"), ("fulfillment", "Order"), ("fulfillment", "Region"),
    ]  # fmt: skip
    tables = [apps.get_model(app, name)._meta.db_table for app, name in models]
    existing = set(connection.introspection.table_names())
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in tables if t in existing) + " CASCADE")
        else:
            for table in tables:
                if table in existing:
                    cursor.execute(f"DELETE FROM {quote(table)}")


def reference_data():
    from fulfillment.models import Carrier, Region, Shop
    from monitoring.models import RouteStandard

    shops = {}
    for code, platform, tier in SHOPS:
        shops[code] = Shop.objects.update_or_create(
            code=code, defaults={"platform": platform, "seller_tier": tier, "name": code}
        )[0]
    carrier = Carrier.objects.get_or_create(code="YTO", defaults={"name": "YTO"})[0]
    Region.objects.bulk_create(
        [Region(province="西藏自治区", is_remote=True), Region(province="新疆维吾尔自治区", is_remote=True)]
        + [Region(province="四川省", city="甘孜藏族自治州", is_remote=True)]
    )
    RouteStandard.objects.bulk_create(
        RouteStandard(origin_province=o, dest_province=d, days=2 if o[:2] == d[:2] else (5 if "自治区" in d else 3))
        for o in ORIGINS
        for d in {p for p, _ in PROVINCES}
        if d != "四川省"  # one pair without a standard: no route deadline there
    )
    return shops, carrier


def parcel_states(rng: random.Random, paid: dt.datetime, platform: str) -> dict:
    """Milestones of one parcel, as of NOW: most delivered, some late at each stage, a few stuck."""
    m = {"status": "paid"}

    def until_now(moment):
        return moment if moment <= NOW else None

    roll = rng.random()
    if roll < 0.02:
        cancelled = until_now(paid + rng.uniform(0.5, 6) * H)
        if cancelled:
            return {"status": "cancelled", "cancelled_at": cancelled}
    shipped = until_now(paid + rng.uniform(0.5, 30) * H)
    if not shipped:
        return m
    m.update(status="shipped", shipped_at=shipped, tracking_no=True)
    rts = until_now(shipped + rng.uniform(0.2, 10) * H)
    if not rts:
        return m
    m.update(status="ready_to_ship", rts_at=rts)
    late = rng.uniform(8, 30) * H if rng.random() < 0.05 else dt.timedelta(0)  # 5% miss the 48 h pickup
    picked = until_now(max(paid + rng.uniform(6, 40) * H, rts + 0.5 * H) + late)
    if not picked:
        return m
    m.update(status="picked_up", picked_up_at=picked, last_event_at=picked)
    stuck = rng.random() < 0.04
    transit = until_now(picked + rng.uniform(1, 30 if not stuck else 300) * H)
    if not transit:
        return m
    m.update(status="in_transit", last_event_at=transit)
    if platform == "lazada":
        sorting = until_now(picked + rng.uniform(4, 36) * H)
        if sorting:
            m.update(status="at_sorting_centre", sorting_centre_at=sorting, last_event_at=max(sorting, transit))
    if stuck:
        return m
    ofd = until_now(transit + rng.uniform(20, 90) * H)
    if not ofd:
        return m
    m.update(status="out_for_delivery", out_for_delivery_at=ofd, last_event_at=ofd)
    if rng.random() < 0.01:
        m.update(status=rng.choice(["exception", "returned", "lost"]))
        return m
    delivered = until_now(ofd + rng.uniform(1, 40) * H)
    if delivered:
        m.update(status="delivered", delivered_at=delivered, last_event_at=delivered)
    return m


def generate(n: int, seed: int = 20260316) -> None:
    from django.db import connection, transaction

    from fulfillment.models import Order, Parcel

    shops, carrier = reference_data()
    rng = random.Random(seed)
    shop_list = list(shops.values())

    def rows():
        for i in range(1, n + 1):
            shop = shop_list[i % len(shop_list)]
            paid = NOW - dt.timedelta(seconds=rng.uniform(0, 14 * 86400))
            province, city = PROVINCES[rng.randrange(len(PROVINCES))]
            amount = Decimal(rng.randrange(990, 99900)) / 100
            order = {
                "id": i, "shop_id": shop.pk, "platform": shop.platform, "seller_tier": shop.seller_tier,
                "order_id": f"B{i:09d}", "paid_at": paid, "amount": amount, "origin_province": ORIGINS[i % 3],
                "dest_province": province, "dest_city": city, "created_at": NOW,
            }  # fmt: skip
            state = parcel_states(rng, paid, shop.platform)
            tracked = state.pop("tracking_no", False)
            parcel = {
                "id": i, "order_id": i, "shop_id": shop.pk, "platform": shop.platform, "paid_at": paid,
                "carrier_id": carrier.pk if tracked else None, "tracking_no": f"YT{i:012d}" if tracked else None,
                "weight_kg": Decimal("0.800"), "declared_value": amount, "created_at": NOW, "updated_at": NOW, **state,
            }  # fmt: skip
            yield order, parcel

    # Rows from the models' own field list (bench/rows.py): COPY on PostgreSQL, executemany on SQLite.
    orders_table, parcels_table = Table(Order, now=NOW), Table(Parcel, now=NOW)
    batch = 20000 if connection.vendor == "sqlite" else 100000
    with transaction.atomic():
        orders, parcels = [], []
        for o, p in rows():
            orders.append(o)
            parcels.append(p)
            if len(orders) >= batch:
                orders_table.write(orders)
                parcels_table.write(parcels)
                orders, parcels = [], []
        orders_table.write(orders)
        parcels_table.write(parcels)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                reset_sequence(cursor, Order)
                reset_sequence(cursor, Parcel)
    tickets_and_complaints(rng, n)


def tickets_and_complaints(rng: random.Random, n: int) -> None:
    from fulfillment.models import Parcel
    from monitoring.models import Complaint, StagnationTicket

    stalled = list(
        Parcel.objects.filter(picked_up_at__isnull=False, delivered_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "last_event_at")[: max(n // 500, 10)]
    )
    tickets, complaints = [], []
    for pk, _last in stalled:
        opened = min(NOW - dt.timedelta(minutes=rng.randrange(1, 3000)), NOW)
        tickets.append(
            StagnationTicket(
                parcel_id=pk, opened_at=opened, response_warn_at=opened + 16 * H, response_due_at=opened + 24 * H
            )
        )
    delivered = Parcel.objects.filter(delivered_at__isnull=False).order_by("pk").values_list("pk", flat=True)
    for pk in delivered[: max(n // 2000, 5)]:
        complaints.append(Complaint(parcel_id=pk, opened_at=NOW - dt.timedelta(hours=rng.randrange(1, 48))))
    StagnationTicket.objects.bulk_create(tickets, batch_size=2000)
    Complaint.objects.bulk_create(complaints, batch_size=2000)


def timed_scan(label: str, now: dt.datetime) -> float:
    from monitoring.services import scan

    started = time.perf_counter()
    report = scan(now=now)
    total = time.perf_counter() - started
    print(f"\n{label} at {now.isoformat()}: {total:.2f} s, raised {report.raised}, upgraded {report.upgraded}, "
          f"resolved {report.resolved}, RSS {rss_mb():.0f} MB")  # fmt: skip
    for kind, outcome in report.rules.items():
        print(
            f"  {kind:<26} {outcome.seconds:7.3f} s  raised {outcome.raised:>7}  upgraded {outcome.upgraded:>6}  "
            f"resolved {outcome.resolved:>6}"
        )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=sorted(URLS), default="sqlite")
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the data set of the previous run (skip generation)")
    parser.add_argument("--explain", action="store_true", help="print the PostgreSQL plan of each rule's raise query")
    parser.add_argument("--database-url", help="another database than --db's (created if missing, wiped first)")
    parser.add_argument("--smoke", action="store_true", help="a tiny data set (300 parcels): seconds")
    args = parser.parse_args()
    if args.smoke:
        args.parcels = 300

    setup_django(args.database_url or URLS[args.db])
    from django.db import connection, transaction
    from django.db.models import Count

    from fulfillment.models import Parcel
    from monitoring.deadlines import recompute_deadlines
    from monitoring.models import Alert

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, parcels: {args.parcels:,}")
    if not args.reuse:
        started = time.perf_counter()
        wipe()
        generate(args.parcels)
        print(f"generated {Parcel.objects.count():,} parcels in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with transaction.atomic():
            recompute_deadlines()
        print(f"recompute_deadlines (all parcels): {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        Alert.objects.all().delete()
    print(f"RSS after setup: {rss_mb():.0f} MB")
    statuses = Parcel.objects.order_by().values_list("status").annotate(n=Count("pk"))
    print("status mix: " + ", ".join(f"{s} {n:,}" for s, n in sorted(statuses, key=lambda x: -x[1])))

    if args.explain and connection.vendor == "postgresql":
        explain()

    full = timed_scan("full scan", NOW)
    again = timed_scan("unchanged re-scan", NOW)
    later = timed_scan("scan 5 minutes later", NOW + dt.timedelta(minutes=5))
    print(
        f"\nSUMMARY {connection.vendor} {args.parcels:,} parcels: full {full:.2f} s, unchanged re-scan {again:.2f} s, "
        f"+5 min {later:.2f} s, open alerts {Alert.objects.filter(resolved_at__isnull=True).count():,}, "
        f"RSS {rss_mb():.0f} MB"
    )


def explain() -> None:
    from django.db import connection

    from monitoring.deadlines import active_policies
    from monitoring.rules import RULES
    from monitoring.services import _breaching

    policies = active_policies()
    for rule in RULES:
        qs = _breaching(rule, now=NOW, policies=policies).values("pk")
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            print(f"\n-- {rule.kind}\n" + "\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
