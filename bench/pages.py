"""Time every dashboard page and the big admin changelists against the benchmark data set.

    flock /tmp/parcel-bench.lock .venv/bin/python bench/pages.py            # N=20 per page
    .venv/bin/python bench/pages.py -n 3 --database-url postgres://postgres@127.0.0.1:5432/pc_e_bench

Uses Django's test Client in-process, logged in as a member of the `Managers` group (real
permissions, so the queries are those a manager causes). "Server time" is the time from the request
to the last byte of the response (streamed CSV bodies are consumed), without any network. Prints
the median and 95th percentile in milliseconds and the number of SQL queries per page.
Build the data first with bench/dataset.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pages() -> list[tuple[str, str]]:
    from fulfillment.models import CarrierOutlet, Parcel, Shop

    shop = Shop.objects.order_by("code").first()
    outlet = CarrierOutlet.objects.order_by("id").first()
    tracking_no = Parcel.objects.filter(tracking_no__isnull=False).order_by("-id").values_list("tracking_no", flat=True)[:1]
    tracking_no = tracking_no[0] if tracking_no else "x"
    shop_id = shop.pk if shop else 0
    return [
        ("dashboard: overview", "/admin/dashboard/"),
        ("dashboard: stalled (default)", "/admin/dashboard/stalled/"),
        ("dashboard: stalled shop+overdue", f"/admin/dashboard/stalled/?shop={shop_id}&level=overdue"),
        ("dashboard: stalled outlet", f"/admin/dashboard/stalled/?outlet={outlet.code if outlet else 'x'}"),
        ("dashboard: stalled outlet name", f"/admin/dashboard/stalled/?outlet={quote((outlet.name or 'x')[:4]) if outlet else 'x'}"),
        ("dashboard: stalled tab pickup overdue", "/admin/dashboard/stalled/?kind=pickup_overdue&level=overdue"),
        ("dashboard: stalled tab warnings", "/admin/dashboard/stalled/?level=warning"),
        ("dashboard: stalled stagnation >=72h", "/admin/dashboard/stalled/?kind=stagnation&min_hours=72"),
        ("dashboard: stalled remote", "/admin/dashboard/stalled/?remote=true"),
        ("dashboard: stalled sort last node", "/admin/dashboard/stalled/?sort=-last_node"),
        ("dashboard: stalled page 20", "/admin/dashboard/stalled/?page=20"),
        ("dashboard: stalled CSV (shop+kind)",
         f"/admin/dashboard/stalled/?shop={shop_id}&kind=update_overdue&level=overdue&format=csv"),
        ("dashboard: shop indicators 14 d", f"/admin/dashboard/shops/?shop={shop_id}"),
        ("dashboard: outlet scorecards 14 d", f"/admin/dashboard/outlets/?shop={shop_id}"),
        ("admin: index", "/admin/"),
        ("admin: parcels", "/admin/fulfillment/parcel/"),
        ("admin: parcels search tracking no", f"/admin/fulfillment/parcel/?q={tracking_no}"),
        ("admin: parcels status filter", "/admin/fulfillment/parcel/?status__exact=in_transit"),
        ("admin: tracking events", "/admin/fulfillment/trackingevent/"),
        ("admin: alerts", "/admin/monitoring/alert/"),
        ("admin: alerts open overdue", "/admin/monitoring/alert/?level__exact=overdue"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20, help="requests per page (after one warm-up request)")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parcel_bench")
    )
    parser.add_argument("--only", default="", help="time only the pages whose name contains this text")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fulfillment.models import Parcel, TrackingEvent
    from monitoring.models import Alert

    call_command("migrate", verbosity=0, interactive=False)
    manager, _ = User.objects.get_or_create(username="bench-manager", defaults={"is_staff": True})
    manager.groups.add(Group.objects.get(name="Managers"))
    client = Client()
    client.force_login(manager)

    print(
        f"data: {Parcel.objects.count():,} parcels, {TrackingEvent.objects.count():,} events, "
        f"{Alert.objects.filter(resolved_at__isnull=True).count():,} open alerts "
        f"({Alert.objects.count():,} in all); {connection.vendor}; n={args.n}"
    )
    rows = []
    for name, url in pages():
        if args.only and args.only not in name:
            continue
        timings, queries, status, size = [], 0, None, 0
        for i in range(args.n + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                elapsed = (time.perf_counter() - started) * 1000
            if i:  # the first request warms caches and is not counted
                timings.append(elapsed)
            queries, status, size = len(captured), response.status_code, len(body)
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
        rows.append((name, status, statistics.median(timings), p95, queries, size))

    print(f"{'page':40} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'bytes':>9}")
    for name, status, median, p95, queries, size in rows:
        flag = "" if p95 < 300 and status == 200 else "  <-- over 300 ms" if status == 200 else "  <-- error"
        print(f"{name:40} {status:>6} {median:>10.1f} {p95:>8.1f} {queries:>8} {size:>9}{flag}")


if __name__ == "__main__":
    main()
