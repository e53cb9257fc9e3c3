"""Drill: a real streaming replica of the local PostgreSQL serves the dashboards (issue 17, item 3).

    flock /tmp/parcel-bench.lock .venv/bin/python bench/replica_drill.py            # port 5433
    .venv/bin/python bench/replica_drill.py --port 5434 --database pc_replica_drill

1. Checks the primary can stream: `wal_level` replica or logical and `max_wal_senders` > 0 (both need a
   restart to change, so the drill prints SKIP with the reason instead), and a replication connection
   from 127.0.0.1 (pg_hba.conf). When pg_hba.conf has no `replication` line, the drill adds
   `host replication all 127.0.0.1/32 trust` to it and reloads the primary (`pg_reload_conf()`, no
   restart: pg_hba.conf cannot be set by ALTER SYSTEM), and removes the line and reloads again at the end;
   `--no-hba` prints SKIP instead.
2. Builds a small data set in the drill's database on the primary (bench/dataset.py --smoke: 200
   parcels, 50 open alerts).
3. `pg_basebackup -R` as the `postgres` OS user into a temporary directory (the whole cluster: every
   database of the primary), starts it on `--port` with `pg_ctl`, waits until it is in recovery and has
   replayed the primary's WAL position.
4. With DATABASE_URL = the primary and DATABASE_REPLICA_URL = the replica (the same database name),
   requests the dashboards with Django's test client and counts the queries each alias served, and
   an admin list (always the primary) to contrast; then writes a row through the ORM (to the primary)
   and times until the replica shows it.
5. Always (finally): stops the replica, removes its directory, restores pg_hba.conf, drops the database.

Prints PASS or FAIL (exit status 1) or SKIP (exit status 0, with the reason).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
HBA_LINE = "host replication all 127.0.0.1/32 trust  # bench/replica_drill.py (removed when it ends)"
STANDBY_LIMITS = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
                  "max_locks_per_transaction")  # fmt: skip
PAGES = [
    ("dashboard: overview", "/admin/dashboard/"),
    ("dashboard: stalled", "/admin/dashboard/stalled/"),
    ("dashboard: stalled CSV", "/admin/dashboard/stalled/?format=csv"),
    ("dashboard: shop indicators", "/admin/dashboard/shops/"),
    ("dashboard: outlet scorecards", "/admin/dashboard/outlets/"),
    ("admin: parcels (always primary)", "/admin/fulfillment/parcel/"),
]


class Skip(Exception):
    pass


def as_postgres(*cmd: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A PostgreSQL binary as the `postgres` OS user (the server refuses to run as root)."""
    user = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    return subprocess.run([*user, *cmd], capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603


def connect(port: int, dbname: str = "postgres", **kwargs):
    import psycopg

    return psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname, autocommit=True, **kwargs)


def replication_allowed(port: int) -> tuple[bool, str]:
    import psycopg

    try:
        with connect(port, replication="true") as conn:
            conn.execute("IDENTIFY_SYSTEM")
        return True, ""
    except psycopg.OperationalError as error:
        return False, str(error).strip().splitlines()[-1]


def check_primary(port: int) -> None:
    with connect(port) as conn:
        wal_level = conn.execute("SHOW wal_level").fetchone()[0]
        senders = int(conn.execute("SHOW max_wal_senders").fetchone()[0])
    print(f"primary 127.0.0.1:{port}: wal_level={wal_level}, max_wal_senders={senders}")
    if wal_level not in ("replica", "logical"):
        raise Skip(f"wal_level is {wal_level}: streaming needs replica (ALTER SYSTEM SET wal_level = replica needs a restart)")
    if senders < 1:
        raise Skip("max_wal_senders is 0: streaming needs at least 1 (changing it needs a restart)")


class Hba:
    """Adds a replication line to the primary's pg_hba.conf if it has none; `restore` takes it out again."""

    def __init__(self, port: int):
        self.port = port
        self.path: Path | None = None

    def allow(self) -> None:
        with connect(self.port) as conn:
            self.path = Path(conn.execute("SHOW hba_file").fetchone()[0])
            original = self.path.read_text()
            with self.path.open("a") as f:
                f.write(("" if original.endswith("\n") else "\n") + HBA_LINE + "\n")
            conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        print(f"primary config: added {HBA_LINE.split('  #')[0]!r} to {self.path} and reloaded (no restart)")

    def restore(self) -> None:
        """Takes out the drill's line only (not a rewrite of the file as it was: another change made
        meanwhile is kept)."""
        if self.path is None:
            return
        lines = self.path.read_text().splitlines(keepends=True)
        if HBA_LINE + "\n" in lines:
            lines.remove(HBA_LINE + "\n")
        self.path.write_text("".join(lines))
        with connect(self.port) as conn:
            conn.execute("SELECT pg_reload_conf()")
        print(f"primary config: {self.path} restored and reloaded")
        self.path = None


class Replica:
    def __init__(self, primary_port: int, port: int):
        self.primary_port, self.port = primary_port, port
        self.dir = Path(tempfile.mkdtemp(prefix="pc-replica-"))
        self.data = self.dir / "data"
        self.started = False
        shutil.chown(self.dir, "postgres", "postgres")

    def create(self) -> float:
        started = time.perf_counter()
        done = as_postgres(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U",
                           "postgres", "-D", str(self.data), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"pg_basebackup failed: {done.stderr.strip()}")
        seconds = time.perf_counter() - started
        # Debian keeps postgresql.conf and pg_hba.conf in /etc: the copy needs its own, with the limits a
        # standby must not set lower than its primary.
        with connect(self.primary_port) as primary:
            limits = "".join(f"{name} = {primary.execute(f'SHOW {name}').fetchone()[0]}\n" for name in STANDBY_LIMITS)
        (self.data / "postgresql.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
            f"hot_standby = on\nshared_buffers = 64MB\n{limits}"
        )
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (self.data / "pg_ident.conf").write_text("")
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(self.data / name, "postgres", "postgres")
        return seconds

    def start(self) -> None:
        done = as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "replica.log"), "-w",
                           "-t", "30", "start")  # fmt: skip
        self.started = done.returncode == 0
        if not self.started:
            log = (self.dir / "replica.log").read_text() if (self.dir / "replica.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()}\n{log[-2000:]}")

    def caught_up(self, timeout: float = 60) -> float:
        """Seconds until the replica is in recovery and has replayed the primary's current WAL position."""
        started = time.perf_counter()
        with connect(self.primary_port) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        while time.perf_counter() - started < timeout:
            try:
                with connect(self.port) as replica:
                    in_recovery, behind = replica.execute(
                        "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())", [target]
                    ).fetchone()
                if in_recovery and behind is not None and behind <= 0:
                    return time.perf_counter() - started
            except Exception:  # noqa: BLE001, S110 - still starting
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the replica did not catch up in {timeout:.0f} s")

    def remove(self) -> None:
        if self.started:
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
        print(f"replica stopped and {self.dir} removed")


def build_primary(url: str) -> None:
    out = subprocess.run([sys.executable, str(BENCH / "dataset.py"), "--smoke", "--force", "--database-url", url],  # noqa: S603
                         cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"dataset.py failed:\n{out.stdout}\n{out.stderr}")
    print("primary data: " + out.stdout.strip().splitlines()[-1].split("] ", 1)[-1])


def drill(primary_url: str, replica_url: str) -> bool:
    """In this process: Django with both aliases; the dashboards, then a write and its lag."""
    os.environ["DATABASE_URL"] = primary_url
    os.environ["DATABASE_REPLICA_URL"] = replica_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fulfillment.models import Shop

    for alias in ("default", "replica"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
            recovery, port = cursor.fetchone()
        print(f"alias {alias!r}: port {port}, in recovery: {recovery}")
    manager, _ = User.objects.get_or_create(username="drill-manager", defaults={"is_staff": True})
    manager.groups.add(Group.objects.get(name="Managers"))
    client = Client()
    client.force_login(manager)
    time.sleep(0.5)  # the new user reaches the replica (the dashboards' own reads of it go there)

    ok = True
    print(f"\n{'page':34} {'status':>6} {'ms':>7} {'primary q':>10} {'replica q':>10}")
    for name, url in PAGES:
        with CaptureQueriesContext(connections["default"]) as on_primary, \
                CaptureQueriesContext(connections["replica"]) as on_replica:  # fmt: skip
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            ms = (time.perf_counter() - started) * 1000
        print(f"{name:34} {response.status_code:>6} {ms:>7.1f} {len(on_primary):>10} {len(on_replica):>10}")
        served_by_replica = len(on_replica) > 0
        expected = name.startswith("dashboard")
        ok &= response.status_code == 200 and bool(body) and served_by_replica == expected

    # A write goes to the primary; the replica shows it once replayed.
    code = f"drill-{int(time.time() * 1000)}"
    written = time.perf_counter()
    Shop.objects.create(code=code, name="Replica drill", platform="tmall", seller_tier="mall")
    seen = None
    while time.perf_counter() - written < 30:
        if Shop.objects.using("replica").filter(code=code).exists():
            seen = time.perf_counter() - written
            break
        time.sleep(0.005)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT application_name, state, write_lag, replay_lag FROM pg_stat_replication")
        streams = cursor.fetchall()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT now() - pg_last_xact_replay_timestamp()")
        (behind,) = cursor.fetchone()
    on_primary = Shop.objects.using("default").filter(code=code).exists()
    print(f"\nwrite through the ORM: on the primary {on_primary}; on the replica after "
          f"{'%.0f ms' % (seen * 1000) if seen is not None else 'NOT within 30 s'}")  # fmt: skip
    for name, state, write_lag, replay_lag in streams:
        print(f"pg_stat_replication: {name or '-'} {state}, write lag {write_lag}, replay lag {replay_lag}")
    print(f"replica's last replayed transaction: {behind} ago")
    try:
        Shop.objects.using("replica").create(code=code + "-r", name="x", platform="tmall", seller_tier="mall")
        print("a write on the replica was accepted: FAIL")
        ok = False
    except Exception as error:  # noqa: BLE001 - the read-only error is the outcome shown
        print(f"a write sent to the replica is refused: {str(error).splitlines()[0]}")
    for alias in ("default", "replica"):
        connections[alias].close()
    return ok and on_primary and seen is not None


def drop_database(port: int, name: str) -> None:
    with connect(port) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--primary-port", type=int, default=5432)
    parser.add_argument("--port", type=int, default=5433, help="the replica's port")
    parser.add_argument("--database", default="pc_replica_drill", help="the drill's database (dropped at the end)")
    parser.add_argument("--no-hba", action="store_true", help="never touch pg_hba.conf: SKIP if it forbids replication")
    args = parser.parse_args()
    primary_url = f"postgres://postgres@127.0.0.1:{args.primary_port}/{args.database}"
    replica_url = f"postgres://postgres@127.0.0.1:{args.port}/{args.database}"
    started = time.perf_counter()
    hba, replica, ok = Hba(args.primary_port), None, False
    try:
        check_primary(args.primary_port)
        allowed, reason = replication_allowed(args.primary_port)
        if not allowed:
            if args.no_hba:
                raise Skip(f"the primary refuses a replication connection ({reason}); add {HBA_LINE.split('  #')[0]!r} "
                           "to pg_hba.conf and reload, or run without --no-hba")  # fmt: skip
            hba.allow()
            allowed, reason = replication_allowed(args.primary_port)
            if not allowed:
                raise Skip(f"the primary still refuses a replication connection after the reload: {reason}")
        build_primary(primary_url)
        replica = Replica(args.primary_port, args.port)
        copied = replica.create()
        print(f"pg_basebackup -R into {replica.data}: {copied:.1f} s")
        replica.start()
        print(f"replica started on 127.0.0.1:{args.port}; in recovery and caught up after {replica.caught_up():.2f} s")
        ok = drill(primary_url, replica_url)
    except Skip as reason:
        print(f"SKIP: {reason}")
        return 0
    finally:
        if replica is not None:
            replica.remove()
        hba.restore()
        drop_database(args.primary_port, args.database)
    print(f"{'PASS' if ok else 'FAIL'}: replica drill in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
