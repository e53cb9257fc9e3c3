"""What `seed_demo` refuses, and the demo users' passwords (no week is seeded here)."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.core.management.base import CommandError

from backoffice.demo.users import ensure_demo_users

pytestmark = pytest.mark.django_db


def test_a_database_with_other_orders_is_refused():
    from fulfillment.tests.factories import OrderFactory

    OrderFactory()
    with pytest.raises(CommandError, match="already has orders"):
        call_command("seed_demo", stdout=io.StringIO())


def test_a_chosen_password_that_fails_the_validators_seeds_nothing(monkeypatch):
    from fulfillment.models import Order

    monkeypatch.setenv("DEMO_CLERK_PASSWORD", "123")
    with pytest.raises(CommandError, match="Nothing was seeded"):
        call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Order.objects.exists()
    assert not get_user_model().objects.filter(username="clerk").exists()


def test_generated_passwords_differ_pass_the_validators_and_never_start_with_a_hyphen(monkeypatch):
    for name in ("ADMIN", "CLERK", "MANAGER"):
        monkeypatch.delenv(f"DEMO_{name}_PASSWORD", raising=False)
    drawn = iter(["-starts-with-hyphen", "123", "ok-Alpha-7f3k", "ok-Beta-9q2m", "ok-Gamma-4x8z"])
    monkeypatch.setattr("secrets.token_urlsafe", lambda nbytes: next(drawn))

    users = ensure_demo_users()

    assert [u.password for u in users] == ["ok-Alpha-7f3k", "ok-Beta-9q2m", "ok-Gamma-4x8z"]
    for demo_user in users:
        validate_password(demo_user.password, demo_user.user)
        assert demo_user.user.check_password(demo_user.password)


def test_an_existing_user_keeps_its_password_and_gets_its_group(django_user_model, monkeypatch):
    monkeypatch.setenv("DEMO_CLERK_PASSWORD", "another-pass-for-tests-2026")
    django_user_model.objects.create_user("clerk", password="clerk-own-pass-2026")

    clerk = next(u for u in ensure_demo_users() if u.username == "clerk")

    assert clerk.password is None
    assert clerk.user.check_password("clerk-own-pass-2026")
    assert clerk.user.groups.filter(name="Warehouse").exists()
