"""The derivation pipeline's order is configuration (`PARCEL_DERIVATION_STEPS`), not the order of
apps in INSTALLED_APPS: with pickups and monitoring either way round, a bagged parcel scanned in at the
sorting centre is back-dated to its bag's pickup and its update clock counts from there."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings

from fulfillment.models import EventCode
from fulfillment.parcel_state import parcels_refresh_milestones
from fulfillment.tests.factories import ShopFactory, TrackingEventFactory
from pickups import services
from pickups.tests.factories import PickupCoverageFactory, parcels_for

pytestmark = pytest.mark.django_db

PICKUP = datetime.datetime(2026, 11, 20, 2, 0, tzinfo=datetime.UTC)
INBOUND = PICKUP + datetime.timedelta(hours=30)


@pytest.fixture(autouse=True)
def packing_time():
    """Bags are packed and sheets booked two hours before the pickup at PICKUP; the agent's confirmation is
    recorded after it (`after_pickup`): a pickup time before the booking is refused."""
    with time_machine.travel(PICKUP - datetime.timedelta(hours=2), tick=False):
        yield


def after_pickup(at):
    return time_machine.travel(at + datetime.timedelta(hours=1), tick=False)


def bagged_parcel_scanned_in():
    PickupCoverageFactory(province="浙江省", city="")
    shop = ShopFactory(code="acme")
    bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    bag.gross_weight_kg, bag.length_cm, bag.width_cm, bag.height_cm = 10, 60, 40, 40
    bag.save()
    (parcel,) = parcels_for(shop, 1)
    services.bag_add_parcels(bag=bag, tracking_numbers=[parcel.tracking_no], by=None)
    services.bag_seal(bag=bag, by=None)
    sheet = services.handover_sheet_create(
        shop=shop,
        carrier=parcel.carrier,
        pickup_address="x",
        pickup_province="浙江省",
        pickup_city="杭州市",
        window_start=PICKUP - datetime.timedelta(hours=1),
        window_end=PICKUP + datetime.timedelta(hours=1),
        bags=[bag],
        by=None,
    )
    services.handover_sheet_book(sheet=sheet, by=None)
    with after_pickup(PICKUP):
        services.handover_sheet_confirm_pickup(sheet=sheet, picked_up_at=PICKUP, agent="王师傅")
    TrackingEventFactory(parcel=parcel, code=EventCode.ARRIVED_SORTING_CENTRE, occurred_at=INBOUND)
    parcels_refresh_milestones(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    return parcel


def swapped(apps: list[str]) -> list[str]:
    apps = list(apps)
    i, j = apps.index("pickups"), apps.index("monitoring")
    apps[i], apps[j] = apps[j], apps[i]
    return apps


@pytest.mark.parametrize("order", ["pickups before monitoring", "monitoring before pickups"])
def test_the_result_does_not_depend_on_the_order_of_apps(order):
    apps = settings.INSTALLED_APPS if order.startswith("pickups") else swapped(settings.INSTALLED_APPS)
    with override_settings(INSTALLED_APPS=apps):
        from django.apps import apps as registry

        names = [config.name for config in registry.get_app_configs()]
        assert (names.index("pickups") < names.index("monitoring")) == order.startswith("pickups")
        parcel = bagged_parcel_scanned_in()

    assert parcel.picked_up_at == PICKUP
    assert parcel.update_due_at == PICKUP + datetime.timedelta(hours=24)


def test_the_steps_run_in_the_configured_order():
    """Reversed steps compute the deadlines before the back-dating: the order is the setting's, and it
    matters — which is why it is written down in one place."""
    steps = list(reversed(settings.PARCEL_DERIVATION_STEPS))
    with override_settings(PARCEL_DERIVATION_STEPS=steps):
        parcel = bagged_parcel_scanned_in()

    assert parcel.picked_up_at == PICKUP  # back-dated, but after the deadlines were computed
    assert parcel.update_due_at is None
