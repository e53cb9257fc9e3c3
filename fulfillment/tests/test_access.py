"""A user limited to shops sees, exports and changes nothing of another shop (none = every shop)."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from fulfillment.access import limit_to_shops, shop_ids_for, visible_shops
from fulfillment.importers import EventImporter, OrderImporter
from fulfillment.importing import run_import
from fulfillment.models import Order, Parcel, Shop, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory, ShopFactory, TrackingEventFactory
from fulfillment.tests.import_files import events_file, orders_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops():
    return ShopFactory(code="shop-a", name="Shop A"), ShopFactory(code="shop-b", name="Shop B")


@pytest.fixture
def clerk(django_user_model, shops):
    """A warehouse clerk limited to shop A."""
    user = django_user_model.objects.create_user("clerk-a", password="clerk-a-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Warehouse"))
    shops[0].members.add(user)
    return django_user_model.objects.get(pk=user.pk)


def test_nobody_listed_sees_every_shop_and_a_listed_user_only_theirs(django_user_model, shops, clerk, admin_user):
    free = django_user_model.objects.create_user("free", password="free-pass-1", is_staff=True)
    assert shop_ids_for(free) is None
    assert shop_ids_for(None) is None  # commands and tasks
    assert shop_ids_for(admin_user) is None
    assert shop_ids_for(clerk) == {shops[0].pk}
    assert list(visible_shops(clerk)) == [shops[0]]
    clerk.is_active = False
    del clerk._visible_shop_ids
    assert shop_ids_for(clerk) == frozenset()


def test_limit_finds_the_shop_of_rows_one_relation_away(shops, clerk):
    mine, theirs = ParcelFactory(shop=shops[0]), ParcelFactory(shop=shops[1])
    TrackingEventFactory(parcel=mine), TrackingEventFactory(parcel=theirs)
    assert list(limit_to_shops(Parcel.objects.all(), clerk)) == [mine]
    assert [e.parcel for e in limit_to_shops(TrackingEvent.objects.all(), clerk)] == [mine]


def test_lists_pages_filters_and_actions_show_only_the_users_shops(client, shops, clerk):
    mine = ParcelFactory(shop=shops[0], order=OrderFactory(shop=shops[0]), tracking_no="YTMINE1")
    theirs = ParcelFactory(shop=shops[1], order=OrderFactory(shop=shops[1]), tracking_no="YTTHEIRS1")
    TrackingEventFactory(parcel=theirs)
    client.force_login(clerk)

    listing = client.get(reverse("admin:fulfillment_parcel_changelist"))
    html = listing.content.decode()
    assert "YTMINE1" in html and "YTTHEIRS1" not in html
    assert "Shop B" not in html  # not even in the shop filter
    searched = client.get(reverse("admin:fulfillment_parcel_changelist"), {"q": "YTTHEIRS1 YTMINE1"})
    assert list(searched.context["cl"].result_list) == [mine]
    # Another shop's page is "not found", as if it did not exist.
    for name, pk in (
        ("admin:fulfillment_parcel_change", theirs.pk),
        ("admin:fulfillment_order_change", theirs.order.pk),
        ("admin:fulfillment_shop_change", shops[1].pk),
    ):
        response = client.get(reverse(name, args=[pk]), follow=True)
        assert "doesn’t exist" in response.content.decode() or response.status_code == 404, name
    assert client.get(reverse("admin:fulfillment_parcel_change", args=[mine.pk])).status_code == 200
    assert "Shop B" not in client.get(reverse("admin:fulfillment_order_changelist")).content.decode()
    events = client.get(reverse("admin:fulfillment_trackingevent_changelist")).content.decode()
    assert "YTTHEIRS1" not in events

    # An action posted with another shop's row ids changes nothing of it.
    client.post(
        reverse("admin:fulfillment_parcel_changelist"),
        {"action": "mark_ready_to_ship", "_selected_action": [theirs.pk, mine.pk]},
    )
    theirs.refresh_from_db(), mine.refresh_from_db()
    assert theirs.rts_at is None and mine.rts_at is not None


def test_a_limited_user_cannot_change_who_is_limited(client, shops, clerk, admin_user):
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["change_shop", "view_shop"]))
    client.force_login(clerk)
    response = client.post(
        reverse("admin:fulfillment_shop_change", args=[shops[0].pk]),
        {"code": "shop-a", "name": "Shop A", "platform": shops[0].platform, "seller_tier": shops[0].seller_tier,
         "timezone": "Asia/Shanghai", "members": []},
    )
    assert response.status_code in (200, 302)
    assert list(shops[0].members.all()) == [clerk]

    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_change", args=[clerk.pk])).content.decode()
    assert "Shops this user is limited to" in page


def _run(importer, path):
    return run_import(importer, path, stdout=io.StringIO(), stderr=io.StringIO(), errors_path=str(path) + ".errors")


def test_an_upload_by_a_limited_user_rejects_the_rows_of_other_shops(tmp_path, shops, clerk):
    path = orders_file(
        tmp_path,
        "tmall,shop-a,A1,2026-03-02 10:00:00,10,mall,浙江省,广东省,深圳市,YTO,YTA1,,",
        "tmall,shop-b,B1,2026-03-02 10:00:00,10,mall,浙江省,广东省,深圳市,YTO,YTB1,,",
        "tmall,shop-new,N1,2026-03-02 10:00:00,10,mall,浙江省,广东省,深圳市,YTO,YTN1,,",
    )
    report = _run(OrderImporter(by=clerk), path)

    assert report.rejected == 2
    assert set(Order.objects.values_list("order_id", flat=True)) == {"A1"}
    assert not Shop.objects.filter(code="shop-new").exists()
    errors = (tmp_path / "orders.csv.errors").read_text()
    assert "shop_code" in errors and "is not one of your shops" in errors


def test_events_for_another_shops_parcel_are_unknown_to_a_limited_user(tmp_path, shops, clerk):
    carrier = CarrierFactory(code="YTO")
    mine = ParcelFactory(shop=shops[0], tracking_no="YTMINE2", carrier=carrier)
    theirs = ParcelFactory(shop=shops[1], tracking_no="YTTHEIRS2", carrier=carrier)
    path = events_file(
        tmp_path,
        f"{mine.carrier.code},YTMINE2,picked_up,2026-03-02 10:00:00,杭州,揽收,",
        f"{mine.carrier.code},YTTHEIRS2,picked_up,2026-03-02 10:00:00,杭州,揽收,",
    )
    report = _run(EventImporter(by=clerk), path)

    assert report.rejected == 1
    assert mine.events.count() == 1 and theirs.events.count() == 0
    assert "unknown parcel" in (tmp_path / "events.csv.errors").read_text()
