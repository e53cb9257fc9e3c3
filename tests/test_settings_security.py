"""Hardened settings (issue 12): login throttling, secret key, entry points, CSP, sessions, SQLite writers, logs."""

import base64
import copy
import datetime
import hashlib
import io
import json
import logging
import logging.config
import os
import re
import runpy
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.db.utils import ConnectionHandler
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.log import configure_logging

import config.settings.base as base_settings
from pickups.tests.factories import ConsolidationBagFactory, HandoverSheetFactory

BASE_DIR = Path(settings.BASE_DIR)
LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "manager-pass-123"  # conftest's manager_user


def production_settings(monkeypatch, **environment) -> dict:
    """The production profile's settings as a fresh import would compute them from this environment."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "parcels.example.com")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # production.py sets keys of the DATABASES it imports from base: keep the running test database's apart.
    monkeypatch.setattr(base_settings, "DATABASES", copy.deepcopy(base_settings.DATABASES))
    return runpy.run_module("config.settings.production")


def base_settings_from(monkeypatch, **environment) -> dict:
    """The settings every profile starts from, computed afresh from this environment."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_DIR / "config" / "settings" / "base.py"))


def clean_environment(**overrides) -> dict:
    environment = {
        name: value
        for name, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests, an error for the deploy check
        if name not in {"DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return {**environment, **overrides}


def run_python(code: str, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own code, in this checkout)
        [sys.executable, "-c", code], cwd=BASE_DIR, env=clean_environment(**environment), capture_output=True, text=True
    )


# --- Login throttling (django-axes) --------------------------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    """The test profile turns django-axes off (the test client's login() passes no request); every other has it."""
    settings.AXES_ENABLED = True
    return settings


def log_in(client, password, **headers):
    response = client.post(LOGIN, {"username": "manager", "password": password}, **headers)
    return response, "_auth_user_id" in client.session


@pytest.mark.django_db
def test_the_right_password_is_refused_after_too_many_wrong_ones(axes_on, manager_user):
    client = Client()
    for attempt in range(axes_on.AXES_FAILURE_LIMIT):
        assert log_in(client, f"guess-{attempt}")[1] is False
    response, logged_in = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert logged_in is False


@pytest.mark.django_db
def test_a_successful_login_before_the_limit_clears_the_count(axes_on, manager_user):
    for _ in range(2):
        client = Client()
        for attempt in range(axes_on.AXES_FAILURE_LIMIT - 1):
            log_in(client, f"guess-{attempt}")
        response, logged_in = log_in(client, PASSWORD)
        assert logged_in, "the failures before a successful login must not add up to a lockout"


@pytest.mark.django_db
def test_a_lockout_ends_after_the_cool_off_time(axes_on, manager_user):
    client = Client()
    for attempt in range(axes_on.AXES_FAILURE_LIMIT):
        log_in(client, f"guess-{attempt}")
    assert log_in(client, PASSWORD)[0].status_code == 429
    with time_machine.travel(timezone.now() + axes_on.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)):
        assert log_in(client, PASSWORD)[1] is True


@pytest.mark.django_db
def test_without_a_proxy_x_forwarded_for_does_not_change_the_address(axes_on, manager_user):
    client = Client()
    for attempt in range(axes_on.AXES_FAILURE_LIMIT):
        log_in(client, f"guess-{attempt}", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}")
    assert log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="10.0.1.1")[1] is False


@pytest.mark.django_db
def test_behind_the_proxy_forged_addresses_do_not_escape_a_lockout_of_that_client_only(
    axes_on, manager_user, monkeypatch
):
    production = production_settings(monkeypatch)
    for name in ("AXES_IPWARE_META_PRECEDENCE_ORDER", "AXES_IPWARE_PROXY_COUNT", "IPWARE_STRICT"):
        setattr(axes_on, name, production[name])
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # nginx appends the address it sees to X-Forwarded-For
    attacker = Client()
    for attempt in range(axes_on.AXES_FAILURE_LIMIT):
        log_in(attacker, f"guess-{attempt}", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}, 198.51.100.7", **proxy)
    response, logged_in = log_in(attacker, PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7", **proxy)
    assert (response.status_code, logged_in) == (429, False)

    # The same user from another address is not locked out by someone else's guesses.
    assert log_in(Client(), PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)[1] is True


# --- Production: secret key, deploy check, entry points --------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("dev-only-insecure-key-change-me-0123456789abcdefghijklmnop", id="development key"),
        pytest.param("s3cr3t-but-far-too-short", id="too short"),
        pytest.param("ab" * 40, id="too few distinct characters"),
        pytest.param("django-insecure-" + secrets.token_urlsafe(50), id="Django's insecure prefix"),
    ],
)
def test_production_refuses_a_weak_secret_key(monkeypatch, key):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        production_settings(monkeypatch, DJANGO_SECRET_KEY=key)


def test_production_accepts_a_random_secret_key(monkeypatch):
    key = secrets.token_urlsafe(50)
    assert production_settings(monkeypatch, DJANGO_SECRET_KEY=key)["SECRET_KEY"] == key


def test_production_passes_the_deploy_check_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=clean_environment(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="parcels.example.com",
        ),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize("module", ["config.wsgi", "config.celery"])
def test_web_and_celery_processes_default_to_the_production_settings(module):
    """Started without DJANGO_SETTINGS_MODULE, they must not silently run the development settings."""
    result = run_python(f"import {module}; from django.conf import settings; print(settings.DEBUG)")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr

    result = run_python(
        f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="parcels.example.com",
    )
    assert result.stdout.split() == ["config.settings.production", "False"], result.stderr


def test_manage_py_defaults_to_the_development_settings_for_the_readme_commands():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; print(settings.SETTINGS_MODULE)"],
        cwd=BASE_DIR,
        env=clean_environment(),
        capture_output=True,
        text=True,
    )
    assert result.stdout.splitlines()[-1] == "config.settings.base", result.stderr


# --- Content-Security-Policy -----------------------------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


@pytest.mark.django_db
def test_pages_send_a_policy_that_allows_only_our_scripts(client):
    directives = policy(client.get("/admin/login/"))
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_the_scan_page_runs_no_inline_script_and_loads_its_own_from_self(warehouse_client):
    bag = ConsolidationBagFactory()
    response = warehouse_client.get(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
    html = response.content.decode()
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script needs the policy's nonce"
    assert re.search(r"<script[^>]+src=\"[^\"]*pickups/scan\.js\"", html)
    assert "'self'" in policy(response)["script-src"]


@pytest.mark.django_db
def test_the_print_buttons_are_allowed_by_their_hash(warehouse_client):
    bag = ConsolidationBagFactory()
    sheet = HandoverSheetFactory(shop=bag.shop)
    for url in (
        reverse("admin:pickups_consolidationbag_label", args=[bag.pk]),
        reverse("admin:pickups_handoversheet_print", args=[sheet.pk]),
    ):
        response = warehouse_client.get(url)
        handlers = re.findall(r" on[a-z]+=\"([^\"]+)\"", response.content.decode())
        assert handlers, url
        allowed = policy(response)["script-src"]
        assert "'unsafe-hashes'" in allowed
        assert {sha256_source(handler) for handler in handlers} <= set(allowed), url


# --- Sessions --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_expires_after_a_working_shift(client, manager_user):
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.get_expiry_age() == 8 * 60 * 60
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 60 * 60


def test_the_session_age_comes_from_the_environment(monkeypatch):
    assert base_settings_from(monkeypatch, SESSION_COOKIE_AGE="3600")["SESSION_COOKIE_AGE"] == 3600


# --- SQLite: concurrent writers wait -----------------------------------------------------------------------------


def test_concurrent_sqlite_writers_wait_for_each_other(tmp_path, monkeypatch, django_db_blocker):
    """Two read-then-write transactions at once on the SQLite default: the second waits for the first.

    In a deferred transaction the second writer has read an older snapshot and fails at once with
    "database is locked"; with BEGIN IMMEDIATE it waits at BEGIN (busy timeout) and reads the first one's write.
    """
    database_url = f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"
    database = base_settings_from(monkeypatch, DATABASE_URL=database_url)["DATABASES"]["default"]
    handler = ConnectionHandler({"default": database})
    first_has_read = threading.Event()
    second_has_read = threading.Event()
    errors = []

    def increment(read_done: threading.Event, wait_for: threading.Event | None):
        connection = handler["default"]
        try:
            connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                (n,) = cursor.fetchone()
                read_done.set()
                if wait_for is not None:
                    # The first writer gives the second a chance to begin (it cannot read while the first holds
                    # the write lock under BEGIN IMMEDIATE, hence the bound).
                    wait_for.wait(timeout=2)
                cursor.execute("UPDATE counter SET n = %s", [n + 1])
            connection.commit()
        except OperationalError as error:
            errors.append(str(error))
            connection.rollback()
        finally:
            connection.set_autocommit(True)
            connection.close()

    with django_db_blocker.unblock():
        setup = handler["default"]
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n integer)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        first = threading.Thread(target=increment, args=(first_has_read, second_has_read))
        first.start()
        first_has_read.wait()
        second = threading.Thread(target=increment, args=(second_has_read, None))
        second.start()
        first.join()
        second.join()
        with setup.cursor() as cursor:
            cursor.execute("SELECT n FROM counter")
            assert errors == []
            assert cursor.fetchone() == (2,)
        setup.close()


# --- JSON logs -------------------------------------------------------------------------------------------------


@pytest.fixture
def production_log(monkeypatch):
    """The production LOGGING dict, its handler writing to a buffer; the test profile's logging is put back."""
    logging_config = copy.deepcopy(production_settings(monkeypatch)["LOGGING"])
    buffer = io.StringIO()
    logging_config["handlers"]["console"]["stream"] = buffer
    logging.config.dictConfig(logging_config)
    yield buffer
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def records(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_logged_exception_is_one_json_record_with_its_traceback(production_log):
    try:
        raise ValueError("bag 42 has no weight")
    except ValueError:
        logging.getLogger("pickups.services").exception("Sealing failed")
    (record,) = records(production_log)
    assert (record["level"], record["logger"], record["message"]) == ("ERROR", "pickups.services", "Sealing failed")
    assert "Traceback (most recent call last)" in record["exc_info"]
    assert "ValueError: bag 42 has no weight" in record["exc_info"]
    assert record["time"]


FORGED = '\n{"level": "INFO", "logger": "django.security", "message": "admin logged in"}'


def test_a_newline_in_a_logged_value_cannot_forge_a_record(production_log):
    logging.getLogger("pickups.services").warning("Unknown tracking number %s", "YT1" + FORGED)
    (record,) = records(production_log)
    assert record["message"] == "Unknown tracking number YT1" + FORGED
    assert record["level"] == "WARNING"


@pytest.mark.django_db
def test_a_request_path_cannot_forge_a_log_record(production_log, client):
    path = "/no-such-page" + FORGED
    assert client.get(quote(path)).status_code == 404  # %0A in the request line: a newline in request.path
    (record,) = records(production_log)
    assert record["level"] == "WARNING"
    assert record["logger"] == "django.request"
    assert record["message"].startswith("Not Found: /no-such-page")
    assert "admin logged in" in record["message"]
