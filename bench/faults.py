"""Fault drills for the production profile (not a test; loopback only; run when nothing else uses the services).

    .venv/bin/python bench/faults.py [worker] [postgres] [redis]      # default: all three
    .venv/bin/python bench/faults.py --smoke [--database pc_faults_smoke]  # set-up only: seconds, restarts nothing

1. worker   — a Celery worker is killed (SIGKILL) in the middle of a scan and restarted: the redelivered
              scan completes and no alert is duplicated.
2. postgres — PostgreSQL is restarted during `import_events`: the import fails with a clear message and a
              re-run completes with nothing duplicated or lost (the table equals one clean run's).
3. redis    — Redis is stopped while gunicorn serves and beat + worker scan every few seconds: the web app
              keeps serving, and scans resume when Redis returns.

Each drill prints what it saw and PASS/FAIL; the exit status is the number of failed drills. It uses its
own databases (pc_faults, pc_faults_import) and Redis database 9. Drill 2 restarts the machine's
PostgreSQL cluster and drill 3 stops and restarts the machine's Redis: other users of them notice.
`--smoke` restarts nothing: a tiny data set in its own database, a Celery worker it starts itself, one
scan through the broker (Redis database 9), then only that worker killed; it is what the test suite runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG = "host=127.0.0.1 port=5432 user=postgres"
BROKER = "redis://127.0.0.1:6379/9"
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly",
    "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def say(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def env_for(database: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "CELERY_BROKER_URL": BROKER,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "INFO",
            **extra,
        }
    )
    return env


def recreate_database(name: str, template: str | None = None) -> None:
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def query(database: str, sql: str):
    with psycopg.connect(f"{PG} dbname={database}") as conn:
        return conn.execute(sql).fetchone()[0]


def wait_for(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: S110 — the service may be restarting; try again
            pass
        time.sleep(step)
    return False


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def flush_broker() -> None:
    subprocess.run(["redis-cli", "-n", "9", "flushdb"], check=True, capture_output=True)


def scan_dataset() -> None:
    """pc_faults: a copy of bench/scan.py's PostgreSQL data set (built at 300,000 parcels when missing)."""
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'pc_b_bench'").fetchone()
    parcels = query("pc_b_bench", "SELECT count(*) FROM fulfillment_parcel") if exists else 0
    if not parcels:
        say("building bench/scan.py's data set (300,000 parcels) in pc_b_bench")
        subprocess.run([PY, "bench/scan.py", "--db", "postgres", "--parcels", "300000"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    recreate_database("pc_faults", template="pc_b_bench")
    query("pc_faults", "SELECT 1")
    with psycopg.connect(f"{PG} dbname=pc_faults", autocommit=True) as conn:
        conn.execute("DELETE FROM monitoring_alert")
    say(f"pc_faults ready: {query('pc_faults', 'SELECT count(*) FROM fulfillment_parcel'):,} parcels, no alerts")


def drill_worker(workdir: Path) -> bool:
    say("DRILL 1: kill the Celery worker in the middle of a scan")
    scan_dataset()
    flush_broker()
    env = env_for("pc_faults", CELERY_VISIBILITY_TIMEOUT="5")
    log = workdir / "worker.log"
    worker_cmd = [CELERY, "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1", "-n", "faults@%h"]
    worker = start(worker_cmd, env, log)
    subprocess.run([CELERY, "-A", "config", "call", "monitoring.tasks.scan_parcels"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    scanning = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    if not wait_for(lambda: query("pc_faults", scanning) > 0, timeout=60):
        say(f"FAIL: the scan never started (see {log})")
        kill_group(worker)
        return False
    time.sleep(0.5)
    kill_group(worker)
    say("worker killed (SIGKILL) while the scan held its lock")
    after_kill = query("pc_faults", "SELECT count(*) FROM monitoring_alert")
    say(f"alerts after the kill: {after_kill} (the scan's transaction rolled back)")
    killed_at = time.monotonic()
    worker = start(worker_cmd, env, log)
    done = wait_for(
        lambda: log.read_text().count("Parcel scan at") >= 1 and query("pc_faults", scanning) == 0, timeout=120
    )
    recovered = time.monotonic() - killed_at
    kill_group(worker, signal.SIGTERM)
    alerts = query("pc_faults", "SELECT count(*) FROM monitoring_alert WHERE resolved_at IS NULL")
    duplicates = query(
        "pc_faults",
        "SELECT count(*) FROM (SELECT parcel_id, kind FROM monitoring_alert WHERE resolved_at IS NULL "
        "GROUP BY parcel_id, kind HAVING count(*) > 1) d",
    )
    say(f"restarted worker completed the redelivered scan: {done}, {recovered:.1f} s after the kill")
    say(f"open alerts {alerts:,}; duplicated (parcel, kind) pairs {duplicates}")
    ok = done and alerts > 0 and duplicates == 0 and after_kill == 0
    say(("PASS" if ok else "FAIL") + f": worker drill (log {log})")
    return ok


def drill_postgres(workdir: Path) -> bool:
    say("DRILL 2: restart PostgreSQL during import_events")
    sys.path.insert(0, str(ROOT / "bench"))
    import import_events as bench_import  # bench/import_events.py: the same generator and parcel set-up

    events, parcels = 600_000, 120_000
    csv_path = workdir / "events.csv"
    bench_import.generate_csv(csv_path, events=events, parcels=parcels)
    recreate_database("pc_faults_import")
    url = "postgres://postgres@127.0.0.1:5432/pc_faults_import"
    bench_import.run_phase("setup", url, parcels)
    env = env_for("pc_faults_import")
    cmd = [PY, "manage.py", "import_events", str(csv_path), "--errors", str(workdir / "errors.csv")]
    importing = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: query("pc_faults_import", "SELECT count(*) FROM fulfillment_trackingevent") > 0, timeout=60)
    cluster = sorted(os.listdir("/etc/postgresql"))[0]
    say(f"restarting PostgreSQL {cluster}/main mid-import")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)
    output, _ = importing.communicate(timeout=300)
    say(f"interrupted import exited with status {importing.returncode}; its last lines:")
    for line in output.strip().splitlines()[-3:]:
        print("    " + line)
    wait_for(lambda: query("pc_faults_import", "SELECT 1") == 1, timeout=60)
    partial = query("pc_faults_import", "SELECT count(*) FROM fulfillment_trackingevent")
    rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    total = query("pc_faults_import", "SELECT count(*) FROM fulfillment_trackingevent")
    distinct = query(
        "pc_faults_import",
        "SELECT count(*) FROM (SELECT DISTINCT parcel_id, code, occurred_at, location FROM fulfillment_trackingevent) d",
    )
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    after_again = query("pc_faults_import", "SELECT count(*) FROM fulfillment_trackingevent")
    say(f"events after the interruption {partial:,}; after the re-run {total:,} (file: {events:,} rows, "
        f"distinct {distinct:,}); re-run exit {rerun.returncode}; third run exit {again.returncode}, "
        f"events {after_again:,}")  # fmt: skip
    clear = importing.returncode != 0 and any("database" in line.lower() for line in output.splitlines()[-3:])
    ok = clear and rerun.returncode == 0 and total == events == distinct == after_again
    say(("PASS" if ok else "FAIL") + ": postgres drill")
    return ok


def drill_redis(workdir: Path) -> bool:
    say("DRILL 3: stop Redis while the web app serves and beat + worker scan")
    if not query("pc_faults", "SELECT count(*) FROM fulfillment_parcel"):
        scan_dataset()
    flush_broker()
    env = env_for(
        "pc_faults",
        SCAN_INTERVAL_SECONDS="5",
        DJANGO_SETTINGS_MODULE="config.settings.load",
        DJANGO_SECRET_KEY="faults-" + os.urandom(32).hex(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
    )
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    log = workdir / "celery.log"
    worker = start([CELERY, "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1", "-n", "faults@%h"],
                   env, log)  # fmt: skip
    beat = start([CELERY, "-A", "config", "beat", "--loglevel", "INFO", "--schedule", str(workdir / "beat-schedule")],
                 env, workdir / "beat.log")  # fmt: skip
    web = start([GUNICORN, "config.wsgi:application", "--bind", "127.0.0.1:8078", "--workers", "2"], env,
                workdir / "web.log")  # fmt: skip

    def scans() -> int:
        return log.read_text().count("Parcel scan at") + log.read_text().count("skipped: another scan")

    def page_ok() -> bool:
        with urllib.request.urlopen("http://127.0.0.1:8078/admin/login/", timeout=10) as response:
            return response.status == 200

    ok = wait_for(page_ok, timeout=60) and wait_for(lambda: scans() >= 1, timeout=180)
    say(f"before: web serving {ok}, scans so far {scans()}")
    subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True)
    say("Redis stopped for 20 s")
    served = failed = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            served += page_ok()
        except OSError:
            failed += 1
        time.sleep(0.25)
    scans_before_return = scans()
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(REDIS_START, check=True, capture_output=True)
    returned = time.monotonic()
    resumed = wait_for(lambda: scans() > scans_before_return, timeout=120)
    say(f"while Redis was down: {served} pages served, {failed} failed")
    say(f"Redis back; scans resumed: {resumed}, {time.monotonic() - returned:.1f} s after its return")
    for process in (web, beat, worker):
        kill_group(process, signal.SIGTERM)
    ok = ok and failed == 0 and served > 0 and resumed
    say(("PASS" if ok else "FAIL") + f": redis drill (logs in {workdir})")
    return ok


def drill_smoke(workdir: Path, database: str) -> bool:
    """The drills' set-up without their faults on the machine's services: a tiny data set in its own database,
    a Celery worker this script starts (Redis database 9 as the broker), one scan through the broker, then
    that worker — and only it — killed (SIGKILL). PostgreSQL and Redis are never restarted."""
    say(f"SMOKE: tiny set-up check in database {database}; no service of the machine is restarted")
    recreate_database(database)
    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    subprocess.run([PY, "bench/scan.py", "--smoke", "--database-url", url], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    with psycopg.connect(f"{PG} dbname={database}", autocommit=True) as conn:
        conn.execute("DELETE FROM monitoring_alert")
    flush_broker()
    env = env_for(database)
    log = workdir / "worker.log"
    worker = start([CELERY, "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1", "-n", "smoke@%h"],
                   env, log)  # fmt: skip
    try:
        subprocess.run([CELERY, "-A", "config", "call", "monitoring.tasks.scan_parcels"], cwd=ROOT, env=env,
                       check=True, capture_output=True)  # fmt: skip
        done = wait_for(lambda: "Parcel scan at" in log.read_text(), timeout=120)
    finally:
        kill_group(worker)
    alerts = query(database, "SELECT count(*) FROM monitoring_alert WHERE resolved_at IS NULL")
    duplicates = query(
        database,
        "SELECT count(*) FROM (SELECT parcel_id, kind FROM monitoring_alert WHERE resolved_at IS NULL "
        "GROUP BY parcel_id, kind HAVING count(*) > 1) d",
    )
    say(f"worker scanned through the broker: {done}; open alerts {alerts:,}; duplicated (parcel, kind) pairs {duplicates}")
    ok = done and alerts > 0 and duplicates == 0
    say(("PASS" if ok else "FAIL") + f": smoke (log {log})")
    return ok


def main() -> None:
    drills = {"worker": drill_worker, "postgres": drill_postgres, "redis": drill_redis}
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("drills", nargs="*", metavar="drill", help="worker, postgres, redis (default: all three)")
    parser.add_argument("--smoke", action="store_true", help="only the set-up check: nothing of the machine restarted")
    parser.add_argument("--database", default="pc_faults_smoke", help="the smoke check's own database (recreated)")
    args = parser.parse_args()
    if unknown := set(args.drills) - set(drills):
        parser.error(f"unknown drills: {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="parcel-faults-"))
    if args.smoke:
        ok = drill_smoke(workdir, args.database)
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        sys.exit(0 if ok else 1)
    chosen = args.drills or list(drills)
    failures = sum(not drills[name](workdir) for name in chosen)
    say(f"{len(chosen) - failures} of {len(chosen)} drills passed")
    sys.exit(failures)


if __name__ == "__main__":
    main()
