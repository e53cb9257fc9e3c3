"""monitoring.tasks: the beat-scheduled scan, eagerly here; a real worker against Redis below."""

import datetime
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from fulfillment.tests.factories import OrderFactory, ParcelFactory, ShopFactory
from monitoring.deadlines import recompute_deadlines
from monitoring.models import Alert, AlertKind
from monitoring.services import SCAN_LOCK_KEY
from monitoring.tasks import scan_parcels

BASE_DIR = Path(settings.BASE_DIR)


def _overdue_parcel():
    shop = ShopFactory(code="task-shop", platform="tmall")
    paid = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=50)
    parcel = ParcelFactory(order=OrderFactory(shop=shop, paid_at=paid, amount=Decimal("100")), shipped=True)
    recompute_deadlines(parcel_ids=[parcel.pk])
    return parcel


def test_beat_schedule_names_this_task():
    entry = settings.CELERY_BEAT_SCHEDULE["scan-parcels"]
    assert entry["task"] == scan_parcels.name
    assert entry["schedule"] == 300.0


@pytest.mark.django_db
def test_task_scans_now_and_a_redelivery_changes_nothing():
    parcel = _overdue_parcel()
    result = scan_parcels.delay().get()
    assert result["rules"][AlertKind.PICKUP_OVERDUE]["raised"] == 1
    before = list(Alert.objects.values())
    again = scan_parcels.apply().get()  # a redelivered message
    assert again["rules"][AlertKind.PICKUP_OVERDUE]["raised"] == 0
    assert list(Alert.objects.values()) == before
    assert Alert.objects.get(parcel=parcel).level == "overdue"


@pytest.mark.django_db
def test_task_skips_while_another_scan_holds_the_lock(caplog):
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("the advisory-lock path is tested in test_services.test_scan_exclusive_postgres")
    _overdue_parcel()
    cache.add(SCAN_LOCK_KEY, "another worker")
    try:
        result = scan_parcels.delay().get()
    finally:
        cache.delete(SCAN_LOCK_KEY)
    assert result["skipped"] is True
    assert not Alert.objects.exists()
    assert "skipped: another scan holds the lock" in caplog.text


SEED = """
import datetime
from decimal import Decimal
from fulfillment.tests.factories import OrderFactory, ParcelFactory, ShopFactory
from monitoring.deadlines import recompute_deadlines
shop = ShopFactory(code="worker-shop", platform="tmall")
paid = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=50)
ids = [ParcelFactory(order=OrderFactory(shop=shop, paid_at=paid, amount=Decimal("80")), shipped=True).pk for _ in range(3)]
recompute_deadlines(parcel_ids=ids)
"""


@pytest.mark.redis
def test_real_worker_runs_the_scheduled_task(tmp_path):
    """A Celery worker process (Redis broker, DB 2) runs the beat entry's task against a file database.

    pytest's database is invisible to another process (SQLite in memory, or a PostgreSQL test
    database inside a transaction), so this test builds its own SQLite file that both the worker
    and this test can open.
    """
    import redis
    from celery import Celery

    broker = "redis://127.0.0.1:6379/2"
    redis.Redis.from_url(broker).flushdb()
    db_file = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{db_file}",
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": "locmemcache://",
        "PYTHONPATH": str(BASE_DIR),
    }
    python = sys.executable
    run = {"cwd": BASE_DIR, "env": env, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], **run)  # noqa: S603 — our own manage.py
    subprocess.run([python, "manage.py", "shell", "-c", SEED], **run)  # noqa: S603 — our own manage.py

    celery_bin = shutil.which("celery", path=str(Path(python).parent)) or "celery"
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603 — the venv's celery, fixed arguments
        [
            celery_bin,
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        task_name = settings.CELERY_BEAT_SCHEDULE["scan-parcels"]["task"]
        Celery("probe", broker=broker).send_task(task_name)
        deadline, found = time.monotonic() + 60, 0
        while time.monotonic() < deadline and worker.poll() is None:
            with sqlite3.connect(db_file, timeout=10) as db:
                found = db.execute(
                    "SELECT count(*) FROM monitoring_alert WHERE kind = 'pickup_overdue' AND level = 'overdue'"
                ).fetchone()[0]
            if found:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    output = (tmp_path / "worker.log").read_text()
    assert found == 3, output[-3000:]
    assert "monitoring.tasks.scan_parcels" in output
