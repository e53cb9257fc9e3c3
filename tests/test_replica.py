"""Reads on a replica (`DATABASE_REPLICA_URL`): the dashboards and the API's reads go there, writes
and reads inside a transaction never do, and nothing changes without a replica."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from core.db.replica import ReplicaRouter, replica_reads, replica_reads_view
from fulfillment.models import Parcel

BASE_DIR = Path(settings.BASE_DIR)


def test_without_a_replica_every_read_stays_on_the_default_database():
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Parcel) is None
    assert router.db_for_write(Parcel) == "default"


@pytest.mark.django_db
def test_with_a_replica_only_the_marked_reads_outside_transactions_go_there(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}
    router = ReplicaRouter()
    assert router.db_for_read(Parcel) is None  # not marked: the admin's lists and forms
    with replica_reads():
        # pytest-django wraps each test in a transaction: inside one, reads must see its writes.
        assert router.db_for_read(Parcel) is None
    assert router.db_for_write(Parcel) == "default"
    assert router.allow_migrate("replica", "fulfillment") is False


@pytest.mark.django_db(transaction=True)
def test_marked_reads_outside_a_transaction_go_to_the_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Parcel) == "replica"
        with transaction.atomic():
            assert router.db_for_read(Parcel) is None


def test_a_streamed_export_keeps_reading_from_the_replica_while_it_is_sent():
    from django.http import StreamingHttpResponse

    from core.db.replica import _replica_reads

    def view(request):
        return StreamingHttpResponse(str(_replica_reads.get()) for _ in range(2))

    response = replica_reads_view(view)(None)
    assert list(response.streaming_content) == [b"True", b"True"]


DRILL = """
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient
from api.services import api_client_create
admin = get_user_model().objects.get(username="boss")
web = Client()
web.force_login(admin)
print("stalled", "REPLICA-ONLY" in web.get("/admin/dashboard/stalled/").content.decode())
print("admin-list", "REPLICA-ONLY" in web.get("/admin/fulfillment/parcel/").content.decode())
api = APIClient()
api.credentials(HTTP_AUTHORIZATION="Token " + KEY)
print("api-read", api.get("/api/v1/parcels/YTO/REPLICA-ONLY/").status_code)
"""

SEED = """
import datetime
from django.contrib.auth import get_user_model
from django.utils import timezone
from fulfillment.tests.factories import CarrierFactory, ParcelFactory, ShopFactory
from monitoring.models import Alert
from api.services import api_client_create
get_user_model().objects.create_superuser("boss", password="x-boss-password-1")
ShopFactory(code="drill-shop")
CarrierFactory(code="YTO")
client, key = api_client_create(name="drill", acts_as=get_user_model().objects.get(username="boss"))
print(key)
"""

ON_REPLICA = """
from django.utils import timezone
from fulfillment.models import Carrier, Shop
from fulfillment.tests.factories import ParcelFactory
from monitoring.models import Alert
parcel = ParcelFactory(shop=Shop.objects.get(code="drill-shop"), carrier=Carrier.objects.get(code="YTO"),
                       tracking_no="REPLICA-ONLY", shipped=True)
Alert.objects.create(parcel=parcel, kind="pickup_overdue", level="overdue", raised_at=timezone.now(),
                     due_at=timezone.now())
"""


def test_drill_the_dashboards_and_api_reads_are_served_by_the_replica(tmp_path):
    """Two SQLite files stand for a primary and its replica; a parcel present only on the replica is
    what the stalled dashboard and the API show, while the admin's own list reads the primary."""
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "PYTHONPATH": str(BASE_DIR),
           "DATABASE_URL": f"sqlite:///{primary}", "CACHE_URL": "locmemcache://"}  # fmt: skip
    env.pop("DATABASE_REPLICA_URL", None)
    run = {"cwd": BASE_DIR, "check": True, "capture_output": True, "timeout": 180, "text": True}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, **run)  # noqa: S603
    key = subprocess.run([python, "manage.py", "shell", "-c", SEED], env=env, **run).stdout.split()[-1]  # noqa: S603
    shutil.copy(primary, replica)
    subprocess.run(  # noqa: S603
        [python, "manage.py", "shell", "-c", ON_REPLICA], env={**env, "DATABASE_URL": f"sqlite:///{replica}"}, **run
    )
    drill = subprocess.run(  # noqa: S603
        [python, "manage.py", "shell", "-c", f"KEY = {key!r}\n" + DRILL],
        env={**env, "DATABASE_REPLICA_URL": f"sqlite:///{replica}"},
        **run,
    ).stdout.split("\n")
    assert "stalled True" in drill
    assert "admin-list False" in drill
    assert "api-read 200" in drill
