"""Build the benchmark data set in PostgreSQL with COPY: 1,000,000 parcels, 5,000,000 events, 100,000 open alerts.

    flock /tmp/parcel-bench.lock .venv/bin/python bench/dataset.py            # full size, skipped if present
    .venv/bin/python bench/dataset.py --parcels 20000 --database-url postgres://postgres@127.0.0.1:5432/pc_e_bench

Reusable and idempotent: the database (default `parcel_bench`) is created and migrated if needed; when it
already holds the requested number of parcels and events, nothing is loaded (`--force` rebuilds).
Rows are generated in Python (seeded, so every build is the same relative to its build time) and
streamed with `COPY ... FROM STDIN`; the non-unique secondary indexes of the two big tables are
dropped during the load and recreated afterwards, which is several times faster than maintaining them
row by row. Times are relative to the build time: parcels are paid over the last 30 days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

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


def ts(value: dt.datetime | None) -> str:
    return r"\N" if value is None else value.strftime("%Y-%m-%d %H:%M:%S+00")


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    """Stream tab-separated rows through COPY in ~1 MB chunks."""
    count = 0
    buffer: list[str] = []
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            buffer.append("\t".join(row))
            count += 1
            if len(buffer) >= 20000:
                copy.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            copy.write("\n".join(buffer) + "\n")
    return count


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


def build(args) -> None:
    from django.db import connection

    rng = random.Random(20260618)  # noqa: S311 - synthetic benchmark data, not security
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    n = args.parcels
    n_shops, n_outlets = 20, 400
    started = time.monotonic()

    raw = connection.connection  # psycopg 3 connection under Django's wrapper
    with raw.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute(
            "TRUNCATE monitoring_alert, monitoring_stagnationticket, monitoring_complaint, "
            "pickups_handoveritem, pickups_bagitem, pickups_transition, pickups_handoversheet, pickups_consolidationbag, "
            "fulfillment_trackingevent, fulfillment_parcel, fulfillment_order, fulfillment_carrieroutlet, "
            "fulfillment_carrier, fulfillment_shop, fulfillment_region RESTART IDENTITY CASCADE"
        )
        dropped = []
        for table in ("fulfillment_parcel", "fulfillment_trackingevent", "monitoring_alert", "fulfillment_order"):
            for name, ddl in secondary_indexes(cur, table):
                cur.execute(f'DROP INDEX "{name}"')
                dropped.append(ddl)
        # Unique constraints of the big tables are also dropped and re-added after the load.
        cur.execute(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
               WHERE c.contype = 'u' AND c.conrelid::regclass::text IN ('fulfillment_trackingevent', 'fulfillment_order')"""
        )
        constraints = cur.fetchall()
        for table, name, _ in constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        # Partial unique indexes (one open alert per parcel and kind, tracking number per carrier).
        cur.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid LEFT JOIN pg_constraint c ON c.conindid = i.oid
               WHERE t.relname IN ('fulfillment_parcel', 'monitoring_alert') AND x.indisunique
               AND NOT x.indisprimary AND c.oid IS NULL"""
        )
        unique_indexes = cur.fetchall()
        for name, _ in unique_indexes:
            cur.execute(f'DROP INDEX "{name}"')

        print(f"[{time.monotonic() - started:6.1f}s] reference data")
        copy_rows(
            cur, "fulfillment_region", ("province", "city", "is_remote"),
            ((p, "", "t") for p in REMOTE_PROVINCES),
        )
        shops = []
        for i in range(n_shops):
            platform = PLATFORMS[i % 3]
            shops.append((i + 1, platform, "mall" if i % 2 == 0 else "marketplace"))
        copy_rows(
            cur, "fulfillment_shop",
            ("id", "code", "name", "platform", "seller_tier", "timezone", "pickup_address", "pickup_province",
             "pickup_city", "created_at"),
            ((str(s), f"bench-{s:02d}", f"压测店铺 {s:02d}", p, t, "Asia/Shanghai", "浙江省杭州市", "浙江省",
              "杭州市", ts(now)) for s, p, t in shops),
        )
        copy_rows(
            cur, "fulfillment_carrier", ("id", "code", "name"),
            ((str(i + 1), c, c) for i, c in enumerate(CARRIERS)),
        )
        outlets = [(o + 1, o % len(CARRIERS) + 1) for o in range(n_outlets)]
        copy_rows(
            cur, "fulfillment_carrieroutlet",
            ("id", "carrier_id", "code", "name", "province", "city", "star_rating", "rating_month"),
            ((str(o), str(c), f"OUT{o:04d}", f"网点 {o:04d}", PROVINCES[o % len(PROVINCES)][0],
              PROVINCES[o % len(PROVINCES)][1], str(1 + o % 5), now.strftime("%Y-%m-01")) for o, c in outlets),
        )

        # One order and one parcel per index; events and alerts are derived from the parcel's story.
        print(f"[{time.monotonic() - started:6.1f}s] orders and parcels")
        stories = []
        for i in range(1, n + 1):
            shop_id, platform, tier = shops[rng.randrange(n_shops)]
            paid = now - dt.timedelta(seconds=rng.randrange(30 * 86400))
            carrier = rng.randrange(len(CARRIERS)) + 1
            outlet = rng.randrange(n_outlets // len(CARRIERS)) * len(CARRIERS) + carrier
            dest = PROVINCES[rng.randrange(len(PROVINCES))]
            amount = rng.randrange(1000, 100000) / 100
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
                            shipped if shipped <= now else None, milestones, stalled))

        status_by_code = {"picked_up": "picked_up", "in_transit": "in_transit",
                          "arrived_sorting_centre": "at_sorting_centre", "out_for_delivery": "out_for_delivery",
                          "delivered": "delivered"}

        copy_rows(
            cur, "fulfillment_order",
            ("id", "shop_id", "platform", "seller_tier", "order_id", "paid_at", "amount", "origin_province",
             "dest_province", "dest_city", "created_at"),
            ((str(i), str(shop_id), platform, tier, f"B{i:010d}", ts(paid), f"{amount:.2f}", "浙江省", dest[0], dest[1],
              ts(paid)) for i, shop_id, platform, tier, paid, _c, _o, dest, amount, *_ in stories),
        )

        def parcel_rows():
            for i, shop_id, platform, _tier, paid, carrier, outlet, _dest, amount, shipped, ms, _stalled in stories:
                at = dict(ms)
                picked = at.get("picked_up")
                last = ms[-1][1] if ms else None
                status = status_by_code[ms[-1][0]] if ms else ("shipped" if shipped else "paid")
                finished = status == "delivered"
                stag_due = last + dt.timedelta(hours=72) if last and not finished else None
                yield (
                    str(i), str(i), str(shop_id), platform, str(carrier) if shipped else r"\N",
                    str(outlet) if picked else r"\N", f"BT{i:010d}" if shipped else r"\N", status, "0.800",
                    f"{amount:.2f}", ts(paid), ts(shipped), ts(shipped), ts(picked), ts(at.get("arrived_sorting_centre")),
                    ts(at.get("out_for_delivery")), ts(at.get("delivered")), ts(last), r"\N",
                    ts(paid + dt.timedelta(hours=24)), ts(paid + dt.timedelta(hours=40)),
                    ts(paid + dt.timedelta(hours=48)),
                    ts(picked + dt.timedelta(hours=16) if picked else None),
                    ts(picked + dt.timedelta(hours=24) if picked else None), r"\N",
                    ts(at["out_for_delivery"] + dt.timedelta(hours=30) if "out_for_delivery" in at else None),
                    ts(picked + dt.timedelta(days=5) if picked else None),
                    ts(stag_due - dt.timedelta(hours=8) if stag_due else None), ts(stag_due), ts(paid), ts(last or paid),
                )

        copy_rows(
            cur, "fulfillment_parcel",
            ("id", "order_id", "shop_id", "platform", "carrier_id", "outlet_id", "tracking_no", "status", "weight_kg",
             "declared_value", "paid_at", "shipped_at", "rts_at", "picked_up_at", "sorting_centre_at",
             "out_for_delivery_at", "delivered_at", "last_event_at", "cancelled_at", "ship_due_at", "pickup_warn_at",
             "pickup_due_at", "update_warn_at", "update_due_at", "sorting_due_at", "delivery_due_at", "route_due_at",
             "stagnation_warn_at", "stagnation_due_at", "created_at", "updated_at"),
            parcel_rows(),
        )

        print(f"[{time.monotonic() - started:6.1f}s] tracking events")
        per_parcel = args.events // n

        def event_rows():
            for i, _s, _p, _t, paid, _c, outlet, dest, _a, shipped, ms, _st in stories:
                rows = list(ms)
                # Pad with `info` nodes (not valid nodes) so that every parcel has the same number of events.
                base = shipped or paid
                k = 0
                while len(rows) < per_parcel:
                    k += 1
                    rows.append(("info", base + dt.timedelta(minutes=7 * k)))
                for code, at in rows:
                    yield (str(i), code, ts(at), f"{dest[1]}转运中心" if code != "info" else "商家仓库",
                           "快件已发往下一站" if code != "info" else "商家已打包", str(outlet), ts(at))

        events = copy_rows(
            cur, "fulfillment_trackingevent",
            ("parcel_id", "code", "occurred_at", "location", "description", "outlet_id", "imported_at"),
            event_rows(),
        )

        print(f"[{time.monotonic() - started:6.1f}s] alerts")
        candidates = [s for s in stories if not (s[10] and s[10][-1][0] == "delivered")]
        rng.shuffle(candidates)
        open_alerts = candidates[: args.open_alerts]

        def alert_rows():
            for i, _s, platform, _t, _paid, _c, _o, _d, amount, _sh, ms, stalled in open_alerts:
                if not ms:
                    kind, rate = ("lazada_ship_overdue", 0) if platform == "lazada" else ("pickup_overdue", 0.05)
                elif stalled:
                    kind, rate = "stagnation", 0
                else:
                    kind, rate = OPEN_ALERT_KINDS[rng.randrange(len(OPEN_ALERT_KINDS))]
                due = now + dt.timedelta(hours=rng.uniform(-72, 24))
                level = "overdue" if due < now else "warning"
                raised = due - dt.timedelta(hours=8)
                yield (str(i), kind, level, ts(due), ts(raised), ts(due) if level == "overdue" else r"\N", r"\N", "",
                       f"{amount * rate:.2f}" if rate else r"\N")
            # Resolved alerts spread over the last 30 days, for the new-vs-resolved chart.
            for s in candidates[args.open_alerts: args.open_alerts + args.open_alerts * 2] + stories[: args.open_alerts]:
                raised = now - dt.timedelta(hours=rng.uniform(24, 30 * 24))
                yield (str(s[0]), "update_overdue" if s[10] else "ship_overdue", "warning",
                       ts(raised + dt.timedelta(hours=8)), ts(raised), r"\N",
                       ts(min(now, raised + dt.timedelta(hours=rng.uniform(1, 48)))), "", r"\N")

        alerts = copy_rows(
            cur, "monitoring_alert",
            ("parcel_id", "kind", "level", "due_at", "raised_at", "escalated_at", "resolved_at", "resolution_note",
             "compensation_estimate"),
            alert_rows(),
        )

        print(f"[{time.monotonic() - started:6.1f}s] indexes and constraints")
        for table, name, definition in constraints:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _name, ddl in unique_indexes:
            cur.execute(ddl)
        for ddl in dropped:
            cur.execute(ddl)
        for table in ("fulfillment_shop", "fulfillment_carrier", "fulfillment_carrieroutlet", "fulfillment_order",
                      "fulfillment_parcel", "fulfillment_region"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    raw.commit()
    # VACUUM cannot run in a transaction: it sets the visibility map (index-only scans) and statistics.
    raw.autocommit = True
    with raw.cursor() as cur:
        print(f"[{time.monotonic() - started:6.1f}s] vacuum analyze")
        for table in ("fulfillment_order", "fulfillment_parcel", "fulfillment_trackingevent", "monitoring_alert",
                      "fulfillment_shop", "fulfillment_carrieroutlet", "fulfillment_region"):
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"[{time.monotonic() - started:6.1f}s] done: {n} parcels, {events} events, {alerts} alerts "
          f"({len(open_alerts)} open), build time {now:%Y-%m-%d %H:%M} UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--open-alerts", type=int, default=100_000)
    parser.add_argument("--force", action="store_true", help="rebuild even if the data set is present")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("the benchmark data set needs PostgreSQL")

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM fulfillment_parcel), (SELECT count(*) FROM fulfillment_trackingevent)")
        parcels, events = cur.fetchone()
    if parcels == args.parcels and events == args.events and not args.force:
        print(f"data set present ({parcels} parcels, {events} events): nothing to do (--force rebuilds)")
        return
    build(args)


if __name__ == "__main__":
    main()
