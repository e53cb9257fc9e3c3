"""`seed_demo` fills an empty database with a week that every page can show, only once, and exactly as
the importers and services would: the week is seeded once for this module (inside a transaction
rolled back at the end) and each test looks at it from its own savepoint."""

import datetime
import io
from dataclasses import dataclass

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from backoffice.demo import records as r
from backoffice.demo.planner import plan_week

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-for-tests-2026"
NOW = datetime.datetime(2026, 6, 15, 10, 23, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@dataclass
class Seeded:
    plan: r.DemoPlan
    output: str
    passwords: dict[str, str]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def printed_passwords(output: str) -> dict[str, str]:
    """`<user> (<role>): generated password <password>` lines of the summary."""
    passwords = {}
    for line in output.splitlines():
        if "generated password " in line:
            passwords[line.split()[0]] = line.split("generated password ", 1)[1].split()[0]
    return passwords


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The week ending at NOW, seeded by the command once; the manager's password chosen, the others generated."""
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as env, transaction.atomic():
        env.setenv("DEMO_MANAGER_PASSWORD", PASSWORD)
        env.delenv("DEMO_ADMIN_PASSWORD", raising=False)
        env.delenv("DEMO_CLERK_PASSWORD", raising=False)
        env.setenv("HOST", "demo.example:8080")
        out = io.StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command("seed_demo", stdout=out, stderr=io.StringIO())
        yield Seeded(plan=plan_week(NOW), output=out.getvalue(), passwords=printed_passwords(out.getvalue()))
        transaction.set_rollback(True)


def test_seed_demo_fills_a_week_once_and_a_second_run_changes_no_table(seeded, client):
    from fulfillment.models import Order, Parcel, Region, Shop, TrackingEvent
    from monitoring.models import Alert, Complaint, StagnationTicket
    from pickups.models import ConsolidationBag, HandoverSheet

    assert "Demo data created" in seeded.output
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


def test_each_demo_user_gets_a_password_of_its_own_printed_once_with_the_address(seeded, client):
    passwords = seeded.passwords
    assert set(passwords) == {"admin", "clerk"}
    assert passwords["admin"] != passwords["clerk"]
    assert "http://demo.example:8080/admin/" in seeded.output
    assert "manager (Managers): password from DEMO_MANAGER_PASSWORD" in seeded.output
    for username, password in passwords.items():
        user = get_user_model().objects.get(username=username)
        assert not password.startswith("-")
        validate_password(password, user)
        assert client.login(username=username, password=password)

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    printed = again.getvalue()
    assert "admin" in printed and "clerk (Warehouse)" in printed and "manager (Managers)" in printed
    assert not any(password in printed for password in passwords.values())


def test_importing_the_plan_s_rows_again_changes_nothing(seeded):
    """The seeded rows are what the importers make of the plan: every row comes back unchanged."""
    from backoffice.demo.replay import import_holidays, import_rows
    from fulfillment.models import Parcel

    parcels = list(Parcel.objects.order_by("pk").values())
    reports = [import_rows(command, rows) for command, rows in seeded.plan.reference.items()]
    reports += [import_holidays(year) for year in seeded.plan.holiday_years]
    reports += [import_rows(command, seeded.plan.rows_of(command)) for command in r.IMPORTED]

    for report in reports:
        assert report.read > 0
        assert (report.inserted, report.updated, report.rejected, report.unchanged) == (0, 0, 0, report.read), (
            report.summary()
        )
    assert list(Parcel.objects.order_by("pk").values()) == parcels


def test_a_scan_at_the_week_s_last_instant_changes_nothing(seeded):
    from monitoring.services import scan

    report = scan(now=seeded.plan.now)

    assert (report.raised, report.upgraded, report.resolved) == (0, 0, 0)


def test_every_transition_happens_in_order(seeded):
    """paid ≤ shipped ≤ ready to ship ≤ bag sealed ≤ sheet booked ≤ picked up ≤ the carrier's events."""
    from fulfillment.models import ImportRun, Parcel, TrackingEvent
    from monitoring.models import StagnationTicket
    from pickups.models import BagItem, ConsolidationBag, HandoverItem, HandoverSheet, Transition

    plan = seeded.plan
    assert not Parcel.objects.filter(shipped_at__lt=F("paid_at")).exists()
    assert not Parcel.objects.filter(rts_at__lt=F("shipped_at")).exists()
    assert not Parcel.objects.filter(cancelled_at__lt=F("paid_at")).exists()
    assert BagItem.objects.filter(bag__sealed_at__isnull=False).count() > 100
    assert not BagItem.objects.filter(bag__sealed_at__lt=F("parcel__rts_at")).exists()
    assert not BagItem.objects.filter(added_at__lt=F("parcel__rts_at")).exists()
    assert not HandoverItem.objects.filter(sheet__booked_at__lt=F("bag__sealed_at")).exists()
    assert HandoverSheet.objects.filter(picked_up_at__isnull=False).count() >= 3
    assert not HandoverSheet.objects.filter(picked_up_at__lt=F("booked_at")).exists()
    assert not HandoverSheet.objects.filter(cancelled_at__lt=F("booked_at")).exists()
    assert not ConsolidationBag.objects.filter(reported_lost_at__lt=F("picked_up_at")).exists()
    # A bagged parcel's events come after its bag's pickup, and from its inbound scan on its pickup time is the bag's.
    bagged_events = TrackingEvent.objects.filter(parcel__bag_item__isnull=False)
    assert bagged_events.exists()
    assert not bagged_events.filter(occurred_at__lt=F("parcel__bag_item__bag__picked_up_at")).exists()
    inbound = Parcel.objects.filter(bag_item__bag__status="received", sorting_centre_at__isnull=False)
    assert inbound.count() > 100
    assert not inbound.exclude(picked_up_at=F("bag_item__bag__picked_up_at")).exists()
    assert not StagnationTicket.objects.filter(answered_at__lt=F("opened_at")).exists()
    # Everything was stamped inside the week by the clock the replay moved along.
    for stamped in (Transition.objects.values_list("at", flat=True), ImportRun.objects.values_list("started_at", flat=True)):
        assert all(plan.start <= at <= plan.now for at in stamped)
    assert ImportRun.objects.filter(rows_rejected__gt=0).count() == 0


def test_one_shop_sends_warehouse_nodes_and_one_day_has_unusual_volume(seeded):
    """Inside the warehouse: the Tmall shop's parcels carry warehouse milestones (and some were at
    risk of shipping late); the other shops have none; the Lazada shop has one unusual day."""
    from fulfillment.models import Parcel
    from monitoring.models import Alert, ShopAlert

    noded = Parcel.objects.filter(accepted_at__isnull=False)
    assert set(noded.values_list("shop__code", flat=True)) == {"tmall-hz-youpin"}
    assert noded.filter(packed_at__isnull=False).count() > 300
    assert not noded.filter(packed_at__gt=F("shipped_at")).exists()  # packed before the upload
    assert not noded.filter(printed_at__lt=F("accepted_at")).exists()
    at_risk = Alert.objects.filter(kind="ship_at_risk")
    assert at_risk.exists() and set(at_risk.values_list("parcel__shop__code", flat=True)) == {"tmall-hz-youpin"}
    assert set(at_risk.values_list("level", flat=True)) == {"warning"}
    spike_day = (seeded.plan.now.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
                 - datetime.timedelta(days=3))
    assert list(ShopAlert.objects.values_list("shop__code", "kind", "day")) == [
        ("lazada-sz-crossborder", "order_spike", spike_day)
    ]
    spike = ShopAlert.objects.get()
    assert spike.orders >= 100 and spike.orders >= 5 * spike.median


def test_three_outlets_have_a_contact_the_scorecard_can_send_to(seeded):
    from fulfillment.models import CarrierOutlet

    reachable = CarrierOutlet.objects.exclude(contact_email="")
    assert reachable.count() == 3
    assert all(outlet.has_contact_channel and outlet.contact_phone for outlet in reachable)
