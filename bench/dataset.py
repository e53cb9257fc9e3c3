"""Build the benchmark data set in PostgreSQL with COPY: 1,000,000 parcels, 5,000,000 events, 100,000 open alerts.

    flock /tmp/parcel-bench.lock .venv/bin/python bench/dataset.py            # full size, skipped if present
    .venv/bin/python bench/dataset.py --parcels 20000 --database-url postgres://postgres@127.0.0.1:5432/pc_e_bench
    .venv/bin/python bench/dataset.py --smoke --database-url ...   # 200 parcels, 1,000 events: seconds

Reusable and idempotent: the database (default `parcel_bench`) is created and migrated if needed; when it
already holds the requested number of parcels and events, nothing is loaded (`--force` rebuilds).
Rows are generated in Python (seeded, so every build is the same relative to its build time) and
streamed with `COPY ... FROM STDIN`; the non-unique secondary indexes of the two big tables are
dropped during the load and recreated afterwards, which is several times faster than maintaining them
row by row. Every row is built from its model's `_meta.concrete_fields` (bench/rows.py), so a column
added later gets its default or empty value instead of breaking the load. Times are relative to the build time: parcels are paid over the last 30 days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from rows import Table, reset_sequence  # bench/rows.py: rows from the models' own field list

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parcel_bench"

PROVINCES = [
    ("广东省", "深圳市"), ("广东省", "广州市"), ("浙江省", "杭州市"), ("浙江省", "宁波市"), ("江苏省", "南京市"),
    ("江苏省", "苏州市"), ("上海市", "上海市"), ("北京市", "北京市"), ("四川省", "成都市"), ("湖北省", "武汉市"),
    ("山东省", "青岛市"), ("福建省", "厦门市"), ("河南省", "郑州市"), ("湖南省", "长沙市"), ("陕西省", "西安市"),
    ("西藏自治区", "拉萨市"), ("新疆维吾尔自治区", "乌鲁木齐市"), ("青海省", "西宁市"),
]
REMOTE_PROVINCES = ("西藏自治区", "新疆维吾尔自治区", "青海省")
CARRIERS = ["YTO", "ZTO", "STO", "YUNDA", "SF"]
PLATFORMS = ["tmall", "taobao", "lazada"]
OPEN_ALERT_KINDS = [
    ("pickup_overdue", 0.05), ("update_overdue", 0.30), ("stagnation", 0), ("route_overdue", 0),
    ("delivery_overdue", 0), ("ship_overdue", 0),
]


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """Non-unique indexes not backing a constraint: safe to drop during a load and recreate after."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = %s AND NOT x.indisunique AND NOT x.indisprimary
        """,
        [table],
    )
    return list(cursor.fetchall())


def models():
    """The models the data set fills, and the tables emptied before a build (CASCADE reaches the rest)."""
    from django.apps import apps

    get = apps.get_model
    filled = {name: get("fulfillment", name) for name in
              ("Region", "Shop", "Carrier", "CarrierOutlet", "Order", "Parcel", "TrackingEvent")}  # fmt: skip
    filled["Alert"] = get("monitoring", "Alert")
    emptied = [get("monitoring", m) for m in ("Alert", "StagnationTicket", "Complaint")]
    emptied += [get("pickups", m) for m in ("HandoverItem", "BagItem", "Transition", "HandoverSheet", "ConsolidationBag")]
    emptied += [filled[m] for m in ("TrackingEvent", "Parcel", "Order", "CarrierOutlet", "Carrier", "Shop", "Region")]
    return filled, emptied


def empty_and_unindex(cur, m, emptied) -> dict:
    """Empty the tables, then drop the big tables' secondary indexes and unique keys (restored after the load)."""
    cur.execute("TRUNCATE " + ", ".join(x._meta.db_table for x in emptied) + " RESTART IDENTITY CASCADE")
    big = [m[name]._meta.db_table for name in ("Parcel", "TrackingEvent", "Alert", "Order")]
    dropped = []
    for table in big:
        for name, ddl in secondary_indexes(cur, table):
            cur.execute(f'DROP INDEX "{name}"')
            dropped.append(ddl)
    # Unique constraints of the big tables are also dropped and re-added after the load.
    cur.execute(
        """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
           WHERE c.contype = 'u' AND c.conrelid::regclass::text = ANY(%s)""",
        [[m["TrackingEvent"]._meta.db_table, m["Order"]._meta.db_table]],
    )
    constraints = cur.fetchall()
    for table, name, _ in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    # Partial unique indexes (one open alert per parcel and kind, tracking number per carrier).
    cur.execute(
        """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid LEFT JOIN pg_constraint c ON c.conindid = i.oid
           WHERE t.relname = ANY(%s) AND x.indisunique AND NOT x.indisprimary AND c.oid IS NULL""",
        [[m["Parcel"]._meta.db_table, m["Alert"]._meta.db_table]],
    )
    unique_indexes = cur.fetchall()
    for name, _ in unique_indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return {"dropped": dropped, "constraints": constraints, "unique_indexes": unique_indexes}


def restore_indexes(cur, saved: dict) -> None:
    for table, name, definition in saved["constraints"]:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _name, ddl in saved["unique_indexes"]:
        cur.execute(ddl)
    for ddl in saved["dropped"]:
        cur.execute(ddl)


def reference_data(cur, m, now: dt.datetime, n_shops: int, n_outlets: int) -> list[tuple[int, str, str]]:
    Table(m["Region"], now=now, with_pk=False).copy(
        cur, ({"province": p, "city": "", "is_remote": True} for p in REMOTE_PROVINCES)
    )
    shops = [(i + 1, PLATFORMS[i % 3], "mall" if i % 2 == 0 else "marketplace") for i in range(n_shops)]
    Table(m["Shop"], now=now).copy(
        cur,
        ({"id": s, "code": f"bench-{s:02d}", "name": f"压测店铺 {s:02d}", "platform": p, "seller_tier": t,
          "timezone": "Asia/Shanghai", "pickup_address": "浙江省杭州市", "pickup_province": "浙江省",
          "pickup_city": "杭州市", "created_at": now} for s, p, t in shops),
    )  # fmt: skip
    Table(m["Carrier"], now=now).copy(cur, ({"id": i + 1, "code": c, "name": c} for i, c in enumerate(CARRIERS)))
    month = now.date().replace(day=1)
    Table(m["CarrierOutlet"], now=now).copy(
        cur,
        ({"id": o + 1, "carrier_id": o % len(CARRIERS) + 1, "code": f"OUT{o + 1:04d}", "name": f"网点 {o + 1:04d}",
          "province": PROVINCES[(o + 1) % len(PROVINCES)][0], "city": PROVINCES[(o + 1) % len(PROVINCES)][1],
          "star_rating": 1 + (o + 1) % 5, "rating_month": month} for o in range(n_outlets)),
    )  # fmt: skip
    return shops


def make_stories(rng: random.Random, now: dt.datetime, n: int, shops, n_outlets: int) -> list[tuple]:
    """One order and one parcel per index; events and alerts are derived from the parcel's story."""
    stories = []
    for i in range(1, n + 1):
        shop_id, platform, tier = shops[rng.randrange(len(shops))]
        paid = now - dt.timedelta(seconds=rng.randrange(30 * 86400))
        carrier = rng.randrange(len(CARRIERS)) + 1
        outlet = rng.randrange(n_outlets // len(CARRIERS)) * len(CARRIERS) + carrier
        dest = PROVINCES[rng.randrange(len(PROVINCES))]
        amount = Decimal(f"{rng.randrange(1000, 100000) / 100:.2f}")
        shipped = paid + dt.timedelta(hours=rng.uniform(1, 26))
        picked = paid + dt.timedelta(hours=rng.uniform(4, 56) if rng.random() < 0.97 else rng.uniform(56, 120))
        # The story: milestones that have happened by now; 6 % stall after the first transit scan.
        stalled = rng.random() < 0.06
        transit = picked + dt.timedelta(hours=rng.uniform(2, 30))
        sorting = transit + dt.timedelta(hours=rng.uniform(6, 40))
        out = sorting + dt.timedelta(hours=rng.uniform(10, 50))
        delivered = out + dt.timedelta(hours=rng.uniform(1, 10))
        milestones = [("picked_up", picked), ("in_transit", transit)]
        if not stalled:
            milestones += [("arrived_sorting_centre", sorting), ("out_for_delivery", out), ("delivered", delivered)]
        milestones = [(code, at) for code, at in milestones if at <= now]
        stories.append((i, shop_id, platform, tier, paid, carrier, outlet, dest, amount,
                        shipped if shipped <= now else None, milestones, stalled))  # fmt: skip
    return stories


STATUS_BY_CODE = {"picked_up": "picked_up", "in_transit": "in_transit", "arrived_sorting_centre": "at_sorting_centre",
                  "out_for_delivery": "out_for_delivery", "delivered": "delivered"}  # fmt: skip
H = dt.timedelta(hours=1)


def order_rows(stories):
    for i, shop_id, platform, tier, paid, _c, _o, dest, amount, *_ in stories:
        yield {"id": i, "shop_id": shop_id, "platform": platform, "seller_tier": tier, "order_id": f"B{i:010d}",
               "paid_at": paid, "amount": amount, "origin_province": "浙江省", "dest_province": dest[0],
               "dest_city": dest[1], "created_at": paid}  # fmt: skip


def parcel_rows(stories):
    for i, shop_id, platform, _tier, paid, carrier, outlet, _dest, amount, shipped, ms, _stalled in stories:
        at = dict(ms)
        picked = at.get("picked_up")
        last = ms[-1][1] if ms else None
        status = STATUS_BY_CODE[ms[-1][0]] if ms else ("shipped" if shipped else "paid")
        stag_due = last + 72 * H if last and status != "delivered" else None
        yield {
            "id": i, "order_id": i, "shop_id": shop_id, "platform": platform,
            "carrier_id": carrier if shipped else None, "outlet_id": outlet if picked else None,
            "tracking_no": f"BT{i:010d}" if shipped else None, "status": status, "weight_kg": Decimal("0.800"),
            "declared_value": amount, "paid_at": paid, "shipped_at": shipped, "rts_at": shipped, "picked_up_at": picked,
            "sorting_centre_at": at.get("arrived_sorting_centre"), "out_for_delivery_at": at.get("out_for_delivery"),
            "delivered_at": at.get("delivered"), "last_event_at": last, "ship_due_at": paid + 24 * H,
            "pickup_warn_at": paid + 40 * H, "pickup_due_at": paid + 48 * H,
            "update_warn_at": picked + 16 * H if picked else None, "update_due_at": picked + 24 * H if picked else None,
            "delivery_due_at": at["out_for_delivery"] + 30 * H if "out_for_delivery" in at else None,
            "route_due_at": picked + dt.timedelta(days=5) if picked else None,
            "stagnation_warn_at": stag_due - 8 * H if stag_due else None, "stagnation_due_at": stag_due,
            "created_at": paid, "updated_at": last or paid,
        }  # fmt: skip


def event_rows(stories, per_parcel: int):
    for i, _s, _p, _t, paid, _c, outlet, dest, _a, shipped, ms, _st in stories:
        rows = list(ms)
        # Pad with `info` nodes (not valid nodes) so that every parcel has the same number of events.
        base = shipped or paid
        k = 0
        while len(rows) < per_parcel:
            k += 1
            rows.append(("info", base + dt.timedelta(minutes=7 * k)))
        for code, at in rows:
            yield {"parcel_id": i, "code": code, "occurred_at": at,
                   "location": f"{dest[1]}转运中心" if code != "info" else "商家仓库",
                   "description": "快件已发往下一站" if code != "info" else "商家已打包", "outlet_id": outlet,
                   "imported_at": at}  # fmt: skip


def alert_rows(rng: random.Random, now: dt.datetime, stories, open_alerts, candidates, n_open: int):
    for i, _s, platform, _t, _paid, _c, _o, _d, amount, _sh, ms, stalled in open_alerts:
        if not ms:
            kind, rate = ("lazada_ship_overdue", 0) if platform == "lazada" else ("pickup_overdue", 0.05)
        elif stalled:
            kind, rate = "stagnation", 0
        else:
            kind, rate = OPEN_ALERT_KINDS[rng.randrange(len(OPEN_ALERT_KINDS))]
        due = now + dt.timedelta(hours=rng.uniform(-72, 24))
        level = "overdue" if due < now else "warning"
        yield {"parcel_id": i, "kind": kind, "level": level, "due_at": due, "raised_at": due - 8 * H,
               "escalated_at": due if level == "overdue" else None,
               "compensation_estimate": Decimal(f"{float(amount) * rate:.2f}") if rate else None}  # fmt: skip
    # Resolved alerts spread over the last 30 days, for the new-vs-resolved chart.
    for s in candidates[n_open: n_open + n_open * 2] + stories[:n_open]:
        raised = now - dt.timedelta(hours=rng.uniform(24, 30 * 24))
        yield {"parcel_id": s[0], "kind": "update_overdue" if s[10] else "ship_overdue", "level": "warning",
               "due_at": raised + 8 * H, "raised_at": raised,
               "resolved_at": min(now, raised + dt.timedelta(hours=rng.uniform(1, 48)))}  # fmt: skip


def build(args) -> None:
    from django.db import connection

    rng = random.Random(20260618)  # noqa: S311 - synthetic benchmark data, not security
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    n = args.parcels
    n_shops, n_outlets = 20, 400
    started = time.monotonic()
    m, emptied = models()

    raw = connection.connection  # psycopg 3 connection under Django's wrapper
    with raw.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        saved = empty_and_unindex(cur, m, emptied)

        print(f"[{time.monotonic() - started:6.1f}s] reference data")
        shops = reference_data(cur, m, now, n_shops, n_outlets)

        print(f"[{time.monotonic() - started:6.1f}s] orders and parcels")
        stories = make_stories(rng, now, n, shops, n_outlets)
        Table(m["Order"], now=now).copy(cur, order_rows(stories))
        Table(m["Parcel"], now=now).copy(cur, parcel_rows(stories))

        print(f"[{time.monotonic() - started:6.1f}s] tracking events")
        events = Table(m["TrackingEvent"], now=now, with_pk=False).copy(cur, event_rows(stories, args.events // n))

        print(f"[{time.monotonic() - started:6.1f}s] alerts")
        candidates = [s for s in stories if not (s[10] and s[10][-1][0] == "delivered")]
        rng.shuffle(candidates)
        open_alerts = candidates[: args.open_alerts]
        alerts = Table(m["Alert"], now=now, with_pk=False).copy(
            cur, alert_rows(rng, now, stories, open_alerts, candidates, args.open_alerts)
        )

        print(f"[{time.monotonic() - started:6.1f}s] indexes and constraints")
        restore_indexes(cur, saved)
        for name in ("Shop", "Carrier", "CarrierOutlet", "Order", "Parcel", "Region"):
            reset_sequence(cur, m[name])
    raw.commit()
    # VACUUM cannot run in a transaction: it sets the visibility map (index-only scans) and statistics.
    raw.autocommit = True
    with raw.cursor() as cur:
        print(f"[{time.monotonic() - started:6.1f}s] vacuum analyze")
        for name in ("Order", "Parcel", "TrackingEvent", "Alert", "Shop", "CarrierOutlet", "Region"):
            cur.execute(f"VACUUM ANALYZE {connection.ops.quote_name(m[name]._meta.db_table)}")
    print(f"[{time.monotonic() - started:6.1f}s] done: {n} parcels, {events} events, {alerts} alerts "
          f"({len(open_alerts)} open), build time {now:%Y-%m-%d %H:%M} UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--open-alerts", type=int, default=100_000)
    parser.add_argument("--force", action="store_true", help="rebuild even if the data set is present")
    parser.add_argument("--smoke", action="store_true", help="a tiny data set (200 parcels, 1,000 events, 50 open alerts)")
    args = parser.parse_args()
    if args.smoke:
        args.parcels, args.events, args.open_alerts = 200, 1000, 50
    if not args.database_url.startswith("postgres"):
        parser.error("the benchmark data set needs PostgreSQL")

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from fulfillment.models import Parcel, TrackingEvent

    call_command("migrate", verbosity=0, interactive=False)
    parcels, events = Parcel.objects.count(), TrackingEvent.objects.count()
    if parcels == args.parcels and events == args.events and not args.force:
        print(f"data set present ({parcels} parcels, {events} events): nothing to do (--force rebuilds)")
        return
    build(args)


if __name__ == "__main__":
    main()
