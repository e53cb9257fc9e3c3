"""Every bench script at its tiny size, as a subprocess, so that a benchmark cannot rot unnoticed.

The scripts run on the suite's database vendor (SQLite by default, PostgreSQL when DATABASE_URL says so)
but never on its databases: each gets its own SQLite file or PostgreSQL database, removed afterwards.
The checks are that a script exits 0 and prints its figures, never how fast it was.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DB = settings.DATABASES["default"]
POSTGRES = "postgresql" in DB["ENGINE"]
PG_ONLY = pytest.mark.skipif(not POSTGRES, reason="the script needs PostgreSQL; runs in the PostgreSQL pass")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def figure(pattern: str, output: str) -> re.Match:
    found = re.search(pattern, output, re.MULTILINE)
    assert found, f"no line matching {pattern!r} in:\n{output}"
    return found


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 240) -> str:
    """Run a bench script in its own process group (so that a hung one leaves nothing behind); exit 0 or fail."""
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BENCH_DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    process = subprocess.Popen(  # noqa: S603 - our own scripts, fixed arguments
        cmd, cwd=ROOT, env={**base, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{cmd} did not finish in {timeout} s:\n{output}")
    assert process.returncode == 0, f"{cmd} exited with {process.returncode}:\n{output}"
    return output


class BenchDatabases:
    """A fresh database per script, named after the suite's own; all dropped (or deleted) at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.names: list[str] = []

    def url(self, name: str) -> str:
        if not POSTGRES:
            return f"sqlite:///{self.tmp / f'{name}.sqlite3'}"
        full = f"{DB['NAME']}_bench_{name}"
        self.names.append(full)
        password = f":{quote(DB['PASSWORD'])}" if DB.get("PASSWORD") else ""
        return f"postgres://{DB['USER']}{password}@{DB['HOST'] or '127.0.0.1'}:{DB['PORT'] or 5432}/{full}"

    def drop(self) -> None:
        if not self.names:
            return
        import psycopg

        admin = {"host": DB["HOST"] or "127.0.0.1", "port": DB["PORT"] or 5432, "user": DB["USER"],
                 "password": DB.get("PASSWORD") or None, "dbname": "postgres"}  # fmt: skip
        with psycopg.connect(**admin, autocommit=True) as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    dbs = BenchDatabases(tmp_path_factory.mktemp("bench"))
    yield dbs
    dbs.drop()


def script(name: str, *args: str) -> list[str]:
    return [sys.executable, str(BENCH / name), *args]


@pytest.fixture(scope="module")
def scan_run(databases):
    url = databases.url("scan")
    return url, run(script("scan.py", "--smoke", "--database-url", url))


@pytest.fixture(scope="module")
def dataset_run(databases):
    url = databases.url("dataset")
    return url, run(script("dataset.py", "--smoke", "--database-url", url))


def test_rows_fill_every_column_a_script_does_not_set():
    """bench/rows.py: only keys (the primary key, NOT NULL foreign keys) must come from a script; every other
    column of every model gets its default or an empty value, so a new column cannot break a bulk load."""
    import datetime as dt
    import importlib.util

    from django.apps import apps

    spec = importlib.util.spec_from_file_location("bench_rows", BENCH / "rows.py")
    rows = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rows)
    now = dt.datetime(2026, 3, 16, tzinfo=dt.UTC)
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if rows.empty_value(field, now) is rows.REQUIRED:
                assert field.primary_key or field.is_relation, f"{model._meta.label}.{field.name}"


def test_import_events(databases):
    where = ["--database", "postgres", "--postgres-url", databases.url("import")] if POSTGRES else ["--database", "sqlite"]
    output = run(script("import_events.py", "--smoke", *where))
    own = figure(r"fulfillment's own work .*?: ([\d,]+) rows in [\d.]+ s = ([\d,]+) events/s; inserted ([\d,]+)", output)
    assert number(own[1]) == number(own[3]) == 1000 and number(own[2]) > 0
    noop = figure(r"re-run of the same file \(no-op\): [\d,]+ rows .*?inserted 0, unchanged ([\d,]+)", output)
    assert number(noop[1]) == 1000
    real = figure(r"real path incl\. derivation steps .*?: ([\d,]+) rows in [\d.]+ s = ([\d,]+) events/s", output)
    assert number(real[1]) == 1000 and number(real[2]) > 0
    assert number(figure(r"bare load .*?: ([\d,]+) rows in", output)[1]) == 1000
    assert number(figure(r"ratio import \(own work\) / bare load: ([\d.]+)x", output)[1]) > 0
    floor = figure(r"floor of the events table .*?: ([\d,]+) rows in [\d.]+ s = ([\d,]+) rows/s", output)
    assert number(floor[1]) == 1000 and number(floor[2]) > 0


def test_scan(scan_run):
    _url, output = scan_run
    summary = figure(r"^SUMMARY (\w+) ([\d,]+) parcels: full ([\d.]+) s, .* open alerts ([\d,]+)", output)
    assert summary[1] == ("postgresql" if POSTGRES else "sqlite")
    assert number(summary[2]) == 300 and number(summary[4]) > 0
    assert number(figure(r"^full scan at \S+: [\d.]+ s, raised ([\d,]+)", output)[1]) > 0
    assert figure(r"^unchanged re-scan at \S+: [\d.]+ s, raised 0,", output)


@PG_ONLY
def test_dataset(dataset_run):
    _url, output = dataset_run
    done = figure(r"done: (\d+) parcels, (\d+) events, (\d+) alerts \((\d+) open\)", output)
    assert (int(done[1]), int(done[2])) == (200, 1000) and int(done[3]) > 0 and int(done[4]) > 0


def test_pages(request):
    """pages.py after dataset.py (PostgreSQL) or after scan.py's data set (SQLite, where dataset.py cannot run)."""
    url, _ = request.getfixturevalue("dataset_run" if POSTGRES else "scan_run")
    output = run(script("pages.py", "-n", "1", "--database-url", url))
    data = figure(r"^data: ([\d,]+) parcels, ([\d,]+) events, ([\d,]+) open alerts", output)
    assert number(data[1]) > 0 and number(data[3]) > 0
    rows = re.findall(r"^(\S.{39}) +(\d{3}) +([\d.]+) +([\d.]+) +(\d+) +(\d+)", output, re.MULTILINE)
    assert len(rows) >= 10, output
    for name, status, median, _p95, queries, size in rows:
        assert (status, float(median) > 0, int(queries) > 0, int(size) > 0) == ("200", True, True, True), name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(
    not POSTGRES,
    reason="load.sh is the gunicorn + PostgreSQL load (its SQLite smoke takes as long as this whole module); "
    "runs in the PostgreSQL pass",
)
@pytest.mark.skipif(not (shutil.which("curl") and (ROOT / ".venv" / "bin" / "gunicorn").exists()),
                    reason="load.sh needs curl and .venv/bin/gunicorn")  # fmt: skip
def test_load_sh(databases):
    """Two users for 3 s against a gunicorn worker that load.sh starts and stops itself, on a free loopback port."""
    env = {"BENCH_DATABASE_URL": databases.url("load"), "LOAD_PORT": str(free_port())}
    output = run(["bash", str(BENCH / "load.sh"), "--smoke"], env=env)
    total = figure(r"^ALL +(\d+) +([\d.]+) +(\d+) +(\d+) +(\d+) +(\d+)$", output)
    assert int(total[1]) > 0 and float(total[2]) > 0 and int(total[6]) == 0


@PG_ONLY
@pytest.mark.redis
def test_faults_smoke(databases):
    """Only the set-up check: the drills themselves restart the machine's PostgreSQL and Redis."""
    name = databases.url("faults").rsplit("/", 1)[1]
    output = run(script("faults.py", "--smoke", "--database", name))
    assert number(figure(r"open alerts ([\d,]+); duplicated \(parcel, kind\) pairs 0", output)[1]) > 0
    assert "PASS: smoke" in output


def test_push(databases):
    """Two senders for 3 s against gunicorn on a free loopback port: every event stored once."""
    output = run(script("push.py", "--smoke", "--database-url", databases.url("push"), "--port", str(free_port())))
    stored = figure(r"^events stored: ([\d,]+) = ([\d,]+) events/s \(sent ([\d,]+) distinct, 2 pushes repeated\)", output)
    assert number(stored[1]) == number(stored[3]) > 0
    assert figure(r"^answer time: p50 [\d,]+ ms, p95 [\d,]+ ms, p99 [\d,]+ ms", output)
    assert figure(r"^pushes answered: [\d,]+ in [\d.]+ s .*errors 0$", output)
    assert "every event stored once: yes" in output


@PG_ONLY
def test_year(databases):
    """bench/year.py at its smoke size: every figure printed next to its target (never whether it met it)."""
    output = run(script("year.py", "--smoke", "--database-url", databases.url("year")))
    ratio = figure(r"^  import into full / into empty: ([\d.]+)x +\(([\d,]+) vs ([\d,]+) events/s\)  target: ", output)
    assert number(ratio[1]) > 0 and number(ratio[2]) > 0
    full = figure(r"^  full scan: ([\d.]+) s, (\d+) queries  target: full scan < 10 s", output)
    again = figure(r"^  unchanged re-scan: ([\d.]+) s, (\d+) queries  target: unchanged re-scan < 3 s", output)
    assert int(full[2]) > 0 and int(again[2]) > 0
    assert number(figure(r"^  full scan: [\d.]+ s, \d+ queries; raised ([\d,]+)", output)[1]) > 0
    assert figure(r"^  unchanged re-scan: [\d.]+ s, \d+ queries; raised 0,", output)
    assert int(figure(r"^  pages: (\d+), slowest median [\d.]+ ms", output)[1]) >= 10
    sizes = figure(r"^  events \+ indexes per million: ([\d,]+) MB before retention, ([\d,]+) MB after", output)
    assert number(sizes[1]) > 0 and number(sizes[2]) > 0
    archived = figure(r"^  ([\d,]+) events in (\d+) partitions: .*\n(?:\[.*\n)?  archive_events --month \S+: .*\n  ([\d,]+) events in (\d+) partitions", output)
    assert number(archived[3]) < number(archived[1]) and int(archived[4]) == int(archived[2]) - 1


@PG_ONLY
@pytest.mark.skipif(not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("runuser")),
                    reason="the drill runs pg_basebackup and pg_ctl as the postgres OS user (runuser, as root)")  # fmt: skip
def test_replica_drill(databases):
    """A real streaming replica on a free port: the dashboards read it, the admin's lists the primary; all removed."""
    name = databases.url("replica").rsplit("/", 1)[1]
    output = run(script("replica_drill.py", "--port", str(free_port()), "--database", name), timeout=150)
    if "SKIP: " in output:
        pytest.skip(output.split("SKIP: ", 1)[1].splitlines()[0])
    assert figure(r"^alias 'replica': port \d+, in recovery: True", output)
    pages = re.findall(r"^(dashboard: .+?|admin: .+?) +(\d{3}) +[\d.]+ +(\d+) +(\d+)$", output, re.MULTILINE)
    assert len(pages) >= 5, output
    for page, status, _primary, replica in pages:
        assert status == "200" and (int(replica) > 0) == page.startswith("dashboard"), page
    assert figure(r"^write through the ORM: on the primary True; on the replica after \d+ ms", output)
    assert "a write sent to the replica is refused" in output
    assert figure(r"^replica stopped and \S+ removed", output) and "PASS: replica drill" in output
