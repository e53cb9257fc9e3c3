"""Benchmark tracking pushes: concurrent senders against gunicorn on loopback.

    flock /tmp/parcel-bench.lock .venv/bin/python bench/push.py                  # PostgreSQL, 20 senders, 60 s
    .venv/bin/python bench/push.py --senders 20 --seconds 60 --events 100
    .venv/bin/python bench/push.py --smoke --database-url sqlite:////tmp/x.sqlite3   # 2 senders, 3 s: seconds

Not a test: it prints figures. Each sender posts signed `generic` pushes of `--events` new tracking
events (distinct parcel/time pairs) to `/api/v1/push/bench/` as fast as the answers come, for
`--seconds`; at the end each sender repeats its last push (a sender retrying after a timeout). Then it
prints events/s stored, the answer times (p50, p95, p99), errors, and whether every event sent is
stored exactly once (the table's count against the distinct events sent).

The database is its own (PostgreSQL `pc_b_push`, created if missing, or the SQLite file given), wiped
and migrated first; gunicorn runs the production settings (`config.settings.load`: plain loopback HTTP)
with `--workers` processes on 127.0.0.1:`--port`, processing each push in the request (no broker).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SECRET = "bench-push-secret"  # noqa: S105 — the benchmark's own throwaway push source
BASE_TIME = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def prepare_database(url: str, parcels: int) -> None:
    if url.startswith("postgres"):
        import psycopg

        parsed = urlparse(url)
        name = parsed.path.lstrip("/")
        with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        Path(urlparse(url).path).unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], **run)  # noqa: S603
    seed = f"""
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ShopFactory
from fulfillment.models import Parcel
from live.models import PushSource
carrier = CarrierFactory(code="YTO")
shop = ShopFactory(code="bench-shop")
orders = [OrderFactory(shop=shop) for _ in range({parcels})]
Parcel.objects.bulk_create(
    Parcel(order=o, shop=shop, platform=o.platform, carrier=carrier, tracking_no=f"YTB{{i:08d}}", paid_at=o.paid_at)
    for i, o in enumerate(orders)
)
PushSource.objects.create(name="bench", kind="generic", secret="{SECRET}", active=True)
"""
    subprocess.run([PY, "manage.py", "shell", "-c", seed], **run)  # noqa: S603


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.load",
        "DJANGO_SECRET_KEY": "push-" + secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_BROKER_URL", None)  # no broker: each push is processed in its request
    server = subprocess.Popen(  # noqa: S603 — the venv's gunicorn, fixed arguments
        [str(Path(PY).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(120):
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/push/bench/", timeout=1)  # 405: up
            return server
        except requests.RequestException:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn did not start")


class Sender(threading.Thread):
    def __init__(self, number: int, *, url: str, parcels: int, events: int, until: float):
        super().__init__(daemon=True)
        self.number, self.url, self.parcels, self.events, self.until = number, url, parcels, events, until
        self.times: list[float] = []
        self.errors = 0
        self.sent: set[tuple[str, str]] = set()
        self.session = requests.Session()
        self.last_body = b""

    def body(self, push: int) -> bytes:
        entries = []
        for k in range(self.events):
            serial = (push * self.events + k) * 64 + self.number  # distinct across senders and pushes
            tracking_no = f"YTB{serial % self.parcels:08d}"
            occurred_at = (BASE_TIME + dt.timedelta(seconds=serial)).isoformat()
            entries.append({"carrier_code": "YTO", "tracking_no": tracking_no, "code": "in_transit",
                            "occurred_at": occurred_at, "location": "杭州", "description": "运输中", "outlet_code": ""})  # fmt: skip
            self.sent.add((tracking_no, occurred_at))
        return json.dumps(entries, ensure_ascii=False).encode()

    def post(self, body: bytes) -> None:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        started = time.perf_counter()
        try:
            answer = self.session.post(
                self.url, data=body, headers={"Content-Type": "application/json", "X-Signature": signature}, timeout=60
            )
            ok = answer.status_code < 300
        except requests.RequestException:
            ok = False
        self.times.append(time.perf_counter() - started)
        self.errors += not ok

    def run(self):
        push = 0
        while time.monotonic() < self.until:
            self.last_body = self.body(push)
            self.post(self.last_body)
            push += 1
        if self.last_body:
            self.post(self.last_body)  # the sender's retry after a timeout: must store nothing new


def stored_events(url: str) -> tuple[int, int]:
    """(events stored, distinct (parcel, time) pairs among them)."""
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(
                "SELECT count(*), count(DISTINCT (parcel_id, occurred_at)) FROM fulfillment_trackingevent"
            ).fetchone()
    import sqlite3

    with sqlite3.connect(urlparse(url).path) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT parcel_id || '@' || occurred_at) FROM fulfillment_trackingevent"
        ).fetchone()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/pc_b_push")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--events", type=int, default=100, help="events per push")
    parser.add_argument("--parcels", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PUSH_PORT", "8078")))
    parser.add_argument("--smoke", action="store_true", help="2 senders, 3 s, 10 events a push, 200 parcels")
    args = parser.parse_args()
    if args.smoke:
        args.senders, args.seconds, args.events, args.parcels, args.workers = 2, 3, 10, 200, 1

    print(f"database {args.database_url}: {args.parcels:,} parcels; {args.senders} senders × {args.events} events a "
          f"push for {args.seconds:g} s; gunicorn {args.workers} workers")  # fmt: skip
    prepare_database(args.database_url, args.parcels)
    server = start_gunicorn(args.database_url, args.port, args.workers)
    try:
        until = time.monotonic() + args.seconds
        url = f"http://127.0.0.1:{args.port}/api/v1/push/bench/"
        senders = [Sender(n, url=url, parcels=args.parcels, events=args.events, until=until) for n in range(args.senders)]
        started = time.monotonic()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    times = [t for s in senders for t in s.times]
    sent = set().union(*(s.sent for s in senders))
    stored, distinct = stored_events(args.database_url)
    print(f"pushes answered: {len(times):,} in {elapsed:.1f} s ({len(times) / elapsed:,.1f} pushes/s), "
          f"errors {sum(s.errors for s in senders)}")  # fmt: skip
    print(f"events stored: {stored:,} = {stored / elapsed:,.0f} events/s (sent {len(sent):,} distinct, "
          f"{len(senders)} pushes repeated)")  # fmt: skip
    print(f"answer time: p50 {statistics.median(times) * 1000:,.0f} ms, p95 {percentile(times, 0.95) * 1000:,.0f} ms, "
          f"p99 {percentile(times, 0.99) * 1000:,.0f} ms")  # fmt: skip
    once = stored == distinct == len(sent)
    print(f"every event stored once: {'yes' if once else 'NO'} (stored {stored:,}, distinct {distinct:,}, sent {len(sent):,})")
    if not once:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
