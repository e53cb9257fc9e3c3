"""`seed_demo` fills an empty database with a week that every page can show, and only once."""

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-for-tests-2026"


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_seed_demo_fills_a_week_once_and_a_second_run_changes_no_table(monkeypatch, client):
    from fulfillment.models import Order, Parcel, Region, Shop, TrackingEvent
    from monitoring.models import Alert, Complaint, StagnationTicket
    from pickups.models import ConsolidationBag, HandoverSheet

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", PASSWORD)
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    assert "Demo data created" in out.getvalue()
    first = row_counts()

    again = io.StringIO()
    call_command("seed_demo", stdout=again)

    assert row_counts() == first
    assert "already there" in again.getvalue()

    # Three shops, about 2,000 orders, with their events.
    assert set(Shop.objects.values_list("platform", flat=True)) == {"tmall", "taobao", "lazada"}
    assert 1900 <= Order.objects.count() <= 2100
    assert Parcel.objects.count() >= Order.objects.count()
    assert TrackingEvent.objects.count() > 2 * Parcel.objects.count()
    # Every state of the handover workflow that a page shows.
    assert {"picked_up", "booked", "cancelled"} <= set(HandoverSheet.objects.values_list("status", flat=True))
    assert {"open", "handed_over", "received"} <= set(ConsolidationBag.objects.values_list("status", flat=True))
    assert ConsolidationBag.objects.filter(reported_lost_at__isnull=False).exists()
    assert Region.objects.filter(province="西藏自治区", city="", is_remote=True).exists()
    # Deadlines and alerts come from the real engine, raised and resolved along the week.
    assert not Parcel.objects.filter(platform="tmall", ship_due_at__isnull=True).exists()
    open_kinds = set(Alert.objects.filter(resolved_at__isnull=True).values_list("kind", flat=True))
    assert {"pickup_overdue", "stagnation", "false_signoff", "lazada_ship_overdue"} <= open_kinds
    assert Alert.objects.filter(resolved_at__isnull=False).exists()
    assert StagnationTicket.objects.filter(answered_at__isnull=True).count() == 1
    assert StagnationTicket.objects.filter(answered_at__isnull=False).count() == 1
    assert Complaint.objects.filter(kind="false_signoff").count() == 1

    # The demo users log in with the chosen password and have their groups.
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="clerk").groups.filter(name="Warehouse").exists()
    assert users.get(username="manager").groups.filter(name="Managers").exists()
    assert client.login(username="manager", password=PASSWORD)


def test_without_a_chosen_password_one_is_generated_and_printed_once(monkeypatch):
    from monitoring.management.commands.seed_demo import Command

    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    out = io.StringIO()
    Command(stdout=out).create_users()
    printed = out.getvalue()
    assert "generated password" in printed
    password = printed.split("generated password ", 1)[1].split()[0]
    assert get_user_model().objects.get(username="clerk").check_password(password)

    again = io.StringIO()
    Command(stdout=again).create_users()
    assert password not in again.getvalue()
    assert get_user_model().objects.get(username="clerk").check_password(password)
