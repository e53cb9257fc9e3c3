"""A digest survives a Celery worker killed mid-send (real Redis broker, real worker processes).

The first worker is killed (SIGKILL) while the receiver holds its request unanswered; the beat sweep
(`send_due_digests`) then hands the digest to a second worker once the dead worker's claim ran out.
The receiver sees the digest's idempotency key twice (the first request was never answered) and
answers it once; the digest is sent once, and a redelivered task afterwards sends nothing.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)

SEED = """
import datetime
from fulfillment.tests.factories import CarrierFactory, ParcelFactory, ShopFactory
from monitoring.tests.factories import AlertFactory
from notifications.services import digests_collect
from notifications.tests.factories import NotificationChannelFactory
NotificationChannelFactory(kind="webhook", target="{url}")
shop = ShopFactory(code="worker-shop")
AlertFactory(parcel=ParcelFactory(shop=shop, carrier=CarrierFactory(code="YTO"), shipped=True), level="overdue")
(digest,) = digests_collect()
print(digest.pk)
"""


class HangingReceiver:
    """Holds the first request unanswered until released; answers the others with 200."""

    def __init__(self):
        self.keys: list[str] = []
        self.answered = 0
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.keys.append(self.headers.get("Idempotency-Key"))
                if len(receiver.keys) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(60)
                    return  # never answered: its worker is dead by now
                receiver.answered += 1
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _worker(env, log):
    python = sys.executable
    celery_bin = shutil.which("celery", path=str(Path(python).parent)) or "celery"
    return subprocess.Popen(  # noqa: S603 — the venv's celery, fixed arguments
        [celery_bin, "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _digest(db_file) -> tuple:
    with sqlite3.connect(db_file, timeout=10) as db:
        return db.execute("SELECT status, attempts FROM notifications_digest").fetchone()


@pytest.mark.redis
def test_a_digest_is_sent_once_when_its_worker_dies_mid_send(tmp_path):
    import redis
    from celery import Celery

    broker = "redis://127.0.0.1:6379/3"
    redis.Redis.from_url(broker).flushdb()
    receiver = HangingReceiver()
    db_file = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{db_file}",
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": "locmemcache://",
        "NOTIFICATION_CLAIM_SECONDS": "3",
        "PYTHONPATH": str(BASE_DIR),
    }
    run = {"cwd": BASE_DIR, "env": env, "check": True, "capture_output": True, "timeout": 120, "text": True}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], **run)  # noqa: S603
    seeded = subprocess.run([python, "manage.py", "shell", "-c", SEED.format(url=receiver.url)], **run)  # noqa: S603
    digest_id = int(seeded.stdout.strip().splitlines()[-1])
    probe = Celery("probe", broker=broker)
    log = (tmp_path / "worker.log").open("w")
    first = second = None
    try:
        first = _worker(env, log)
        probe.send_task("notifications.tasks.send_digest", args=[digest_id])
        assert receiver.first_arrived.wait(60), "the first worker never sent"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=15)
        receiver.release.set()
        assert _digest(db_file) == ("pending", 0)

        second = _worker(env, log)
        time.sleep(3.5)  # the dead worker's claim runs out
        probe.send_task("notifications.tasks.send_due_digests")  # what beat does every minute
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _digest(db_file)[0] != "sent":
            time.sleep(0.3)
        probe.send_task("notifications.tasks.send_digest", args=[digest_id])  # a late redelivery
        time.sleep(2)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
        log.close()
        receiver.server.shutdown()
    output = (tmp_path / "worker.log").read_text()
    assert _digest(db_file) == ("sent", 1), output[-3000:]
    assert receiver.answered == 1, output[-3000:]
    assert receiver.keys == [f"digest-{digest_id}"] * 2
