"""Fixtures shared by every app's tests: users in the two groups, and service availability."""
import os
import socket

import pytest
from django.contrib.auth.models import Group


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pytest_collection_modifyitems(config, items):
    """Skip tests whose service is absent, with a reason; CI sets REQUIRE_SERVICES=1 so they fail instead."""
    from django.db import connection

    required = os.environ.get("REQUIRE_SERVICES") == "1"
    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...); runs in CI's second pass"))
        if "redis" in item.keywords and not _listening(6379) and not required:
            item.add_marker(pytest.mark.skip(reason="no Redis on 127.0.0.1:6379"))


@pytest.fixture(autouse=True)
def _default_language():
    """A test that switches to Chinese must not leak it into the next test's messages."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


def _role(name: str) -> Group:
    """The group of the roles migration; put back first when a transactional test before this one
    flushed the database (the flush takes the data migration's groups with it)."""
    if not Group.objects.filter(name=name).exists():
        from django.contrib.auth.models import Permission

        from backoffice.roles import grant_roles

        grant_roles(Group, Permission)
    return Group.objects.get(name=name)


@pytest.fixture
def warehouse_user(django_user_model):
    user = django_user_model.objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    user.groups.add(_role("Warehouse"))
    return user


@pytest.fixture
def manager_user(django_user_model):
    user = django_user_model.objects.create_user("manager", password="manager-pass-123", is_staff=True)
    user.groups.add(_role("Managers"))
    return user


@pytest.fixture
def warehouse_client(client, warehouse_user):
    client.force_login(warehouse_user)
    return client


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def announcements():
    """`announcements()`: the `parcels_changed` announcements (reason, sorted ids) so far, after running
    the on-commit callbacks queued until then — announcements wait for the commit, and a test's
    transaction never commits. `announcements.before_commit`: what was sent before any commit."""
    from django.db import connection

    from fulfillment.signals import parcels_changed

    calls = []

    def receiver(sender, parcel_ids, reason, **kwargs):
        calls.append((reason, sorted(parcel_ids)))

    parcels_changed.connect(receiver, dispatch_uid="test-announcements")
    start = len(connection.run_on_commit)

    def committed():
        pending = connection.run_on_commit[start:]
        del connection.run_on_commit[start:]
        for _savepoints, callback, _robust in pending:
            callback()
        return calls

    committed.before_commit = calls
    yield committed
    parcels_changed.disconnect(dispatch_uid="test-announcements")
