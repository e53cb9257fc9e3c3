"""The API for ERPs: keys and scopes, orders in, parcels and alerts out, bags and sheets through the services."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiClient, ApiWrite
from api.tests.conftest import make_client
from fulfillment.models import ImportRun, Order, Parcel
from fulfillment.tests.factories import CarrierFactory, ParcelFactory, ShopFactory, TrackingEventFactory
from monitoring.models import Alert
from pickups.models import BagStatus, SheetStatus
from pickups.tests.factories import PickupCoverageFactory, parcels_for

pytestmark = pytest.mark.django_db

ORDER = {
    "platform": "tmall", "shop_code": "acme", "order_id": "E1", "paid_at": "2026-11-30 10:00:00", "amount": "99.5",
    "seller_tier": "mall", "origin_province": "浙江省", "dest_province": "广东省", "dest_city": "深圳市",
    "carrier_code": "YTO", "tracking_no": "YTAPI0001", "shipped_at": "", "rts_at": "",
}  # fmt: skip


def keyed(key):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return http


# ------------------------------------------------------------------------------------------ keys and scopes


def test_no_key_a_wrong_key_or_an_inactive_client_is_refused(erp, shop):
    ParcelFactory(shop=shop, tracking_no="YT1")
    url = "/api/v1/alerts/"
    assert APIClient().get(url).status_code == 401
    assert keyed("pc_nope").get(url).status_code == 401
    client, key = erp
    assert keyed(key[:-1] + ("x" if key[-1] != "x" else "y")).get(url).status_code == 401
    assert keyed(key).get(url).status_code == 200
    ApiClient.objects.filter(pk=client.pk).update(active=False)
    assert keyed(key).get(url).status_code == 401


def test_only_a_hash_of_the_key_is_stored(erp):
    client, key = erp
    client.refresh_from_db()
    assert key not in (client.key_hash, client.key_prefix) and len(client.key_hash) == 64


def test_a_read_client_cannot_write_and_a_writer_needs_its_users_permission(django_user_model, shop):
    _reader, read_key = make_client(django_user_model, name="reader", write=False, perms=("add_order",))
    assert keyed(read_key).get("/api/v1/alerts/").status_code == 200
    assert keyed(read_key).post("/api/v1/orders/", [ORDER], format="json").status_code == 403

    _writer, write_key = make_client(django_user_model, name="writer", groups=("Warehouse",))  # no add_order
    answer = keyed(write_key).post("/api/v1/orders/", [ORDER], format="json")
    assert answer.status_code == 403 and "fulfillment.add_order" in answer.json()["detail"]
    assert not Order.objects.exists()


def test_clients_are_throttled(erp, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_client": "2/min"}}
    from rest_framework.settings import api_settings

    api_settings.reload()
    from api.authentication import ClientRateThrottle

    ClientRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        codes = [keyed(erp[1]).get("/api/v1/alerts/").status_code for _ in range(3)]
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_client": "600/min"}}
        api_settings.reload()
        ClientRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        cache.clear()
    assert codes == [200, 200, 429]


# ------------------------------------------------------------------------------------------ orders in


@time_machine.travel(datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC), tick=False)
def test_posted_orders_are_validated_and_applied_like_an_import_and_reposting_is_a_no_op(api, erp, shop):
    other = ShopFactory(code="other")
    entries = [
        ORDER,
        {**ORDER, "order_id": "E2", "tracking_no": "YTAPI0002", "paid_at": "9999-12-31 23:59:59"},
        {**ORDER, "order_id": "E3", "shop_code": other.code, "tracking_no": "YTAPI0003"},
        "not an object",
        {**ORDER, "order_id": "E4", "tracking_no": "YTAPI0004", "amount": {"nested": 1}},
    ]
    answer = api.post("/api/v1/orders/", entries, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["read"], body["inserted"], body["rejected"]) == (5, 1, 4)
    assert [(e["entry"], e["field"]) for e in body["errors"]] == [
        (2, "paid_at"), (3, "shop_code"), (4, ""), (5, "amount")
    ]  # fmt: skip
    assert list(Order.objects.values_list("order_id", flat=True)) == ["E1"]
    run = ImportRun.objects.get()
    assert (run.source, run.by, run.rows_inserted) == (f"api: {erp[0].name}", erp[0].acts_as, 1)
    assert ApiWrite.objects.get().summary["inserted"] == 1

    again = api.post("/api/v1/orders/", {"orders": [ORDER]}, format="json").json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 1)

    dry = api.post("/api/v1/orders/?dry_run=true", [{**ORDER, "order_id": "E9", "tracking_no": "YT9"}], format="json")
    assert dry.json()["inserted"] == 1 and dry.json()["dry_run"] and not Order.objects.filter(order_id="E9").exists()


def test_a_body_that_is_not_a_list_of_rows_is_a_clear_400(api):
    for body in ({"rows": []}, "text", 42):
        answer = api.post("/api/v1/orders/", body, format="json")
        assert answer.status_code == 400 and "JSON array" in answer.json()["detail"]
    broken = api.post("/api/v1/orders/", data="[{", content_type="application/json")
    assert broken.status_code == 400


# ------------------------------------------------------------------------------------------ parcels and alerts


def test_a_parcel_with_its_milestones_deadlines_events_and_open_alerts(api, shop):
    parcel = ParcelFactory(shop=shop, tracking_no="YTP1", carrier=CarrierFactory(code="YTO"))
    TrackingEventFactory(parcel=parcel, code="picked_up", location="杭州")
    Alert.objects.create(parcel=parcel, kind="update_overdue", level="warning", raised_at=timezone.now())
    Alert.objects.create(
        parcel=parcel, kind="pickup_overdue", level="overdue", raised_at=timezone.now(), resolved_at=timezone.now()
    )
    body = api.get(f"/api/v1/parcels/{parcel.carrier.code}/ytp1/").json()

    assert body["tracking_no"] == "YTP1" and body["shop"] == "acme" and body["status"] == parcel.status
    assert "paid_at" in body["milestones"] and "pickup_due_at" in body["deadlines"]
    assert [e["location"] for e in body["events"]] == ["杭州"]
    assert [a["kind"] for a in body["open_alerts"]] == ["update_overdue"]


def test_another_shops_parcel_and_alerts_are_invisible(api, shop):
    theirs = ParcelFactory(shop=ShopFactory(code="theirs"), tracking_no="YTX1", carrier=CarrierFactory(code="YTO"))
    Alert.objects.create(parcel=theirs, kind="update_overdue", level="warning", raised_at=timezone.now())
    assert api.get(f"/api/v1/parcels/{theirs.carrier.code}/YTX1/").status_code == 404
    assert api.get("/api/v1/alerts/").json()["results"] == []


def test_alerts_since_an_instant_page_by_page(api, shop):
    parcels = [ParcelFactory(shop=shop) for _ in range(5)]
    start = timezone.now()
    old = Alert.objects.create(
        parcel=parcels[0], kind="update_overdue", level="warning", raised_at=start - datetime.timedelta(days=2)
    )
    upgraded = Alert.objects.create(
        parcel=parcels[1], kind="pickup_overdue", level="overdue", raised_at=start - datetime.timedelta(days=2),
        escalated_at=start + datetime.timedelta(minutes=1),
    )  # fmt: skip
    new = [
        Alert.objects.create(parcel=p, kind="update_overdue", level="warning", raised_at=start + datetime.timedelta(minutes=2))
        for p in parcels[2:]
    ]
    since = (start - datetime.timedelta(seconds=1)).isoformat()
    first = api.get("/api/v1/alerts/", {"since": since, "limit": 2}).json()
    second = api.get(first["next"]).json()
    ids = [a["id"] for a in first["results"] + second["results"]]
    assert ids == [upgraded.pk, *(a.pk for a in new)]
    assert old.pk not in ids
    assert api.get("/api/v1/alerts/", {"since": "yesterday"}).status_code == 400


# ------------------------------------------------------------------------------------------ bags and sheets


def test_a_bag_and_a_sheet_through_the_api_with_the_admins_refusals(api, shop):
    PickupCoverageFactory(province="浙江省", city="")
    parcels = parcels_for(shop, 3, weight_kg=Decimal("1.000"))
    bag = api.post("/api/v1/bags/", {"shop": "acme", "sorting_centre": "SZ"}, format="json").json()
    number = bag["number"]

    scanned = api.post(
        f"/api/v1/bags/{number}/parcels/", {"tracking_numbers": [p.tracking_no for p in parcels] + ["NOPE"]}, format="json"
    ).json()
    assert scanned["added"] == 3 and scanned["results"][-1]["outcome"] == "unknown"

    light = api.post(f"/api/v1/bags/{number}/seal/", {"gross_weight_kg": "2.00", "length_cm": "60", "width_cm": "40",
                                                       "height_cm": "30"}, format="json")  # fmt: skip
    assert light.status_code == 409 and "3" in light.json()["detail"]  # names the parcels' weight
    sealed = api.post(f"/api/v1/bags/{number}/seal/", {"gross_weight_kg": "3.50"}, format="json")
    assert sealed.status_code == 200 and sealed.json()["status"] == BagStatus.SEALED

    start = timezone.now() + datetime.timedelta(hours=1)
    sheet = api.post(
        "/api/v1/handover-sheets/",
        {"shop": "acme", "carrier": parcels[0].carrier.code, "window_start": start.isoformat(),
         "window_end": (start + datetime.timedelta(hours=2)).isoformat(), "bags": [number]},
        format="json",
    )  # fmt: skip
    assert sheet.status_code == 201, sheet.json()
    sheet_number = sheet.json()["number"]
    assert sheet.json()["bags"] == [number]
    assert api.post(f"/api/v1/handover-sheets/{sheet_number}/book/").json()["status"] == SheetStatus.BOOKED

    confirmed = api.post(
        f"/api/v1/handover-sheets/{sheet_number}/confirm-pickup/",
        {"picked_up_at": (timezone.now() + datetime.timedelta(minutes=1)).isoformat(), "agent": "王师傅"},
        format="json",
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == SheetStatus.PICKED_UP
    cancel = api.post(f"/api/v1/handover-sheets/{sheet_number}/cancel/", {"reason": "too late"}, format="json")
    assert cancel.status_code == 409
    assert api.get(f"/api/v1/handover-sheets/{sheet_number}/").json()["status"] == SheetStatus.PICKED_UP
    assert ApiWrite.objects.filter(path__endswith="/cancel/", status_code=409).exists()


def test_bags_of_another_shop_cannot_be_made_or_touched(api, shop):
    other = ShopFactory(code="theirs")
    assert api.post("/api/v1/bags/", {"shop": "theirs", "sorting_centre": "SZ"}, format="json").status_code == 400
    from pickups import services

    theirs = services.bag_create(shop=other, sorting_centre="SZ", by=None)
    assert api.get(f"/api/v1/bags/{theirs.number}/").status_code == 404
    assert api.post(f"/api/v1/bags/{theirs.number}/seal/", {}, format="json").status_code == 404
    assert Parcel.objects.count() == 0


# ------------------------------------------------------------------------------------------ schema and docs


def test_the_schema_and_its_docs(client, admin_user, erp):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert keyed(erp[1]).get("/api/schema/").status_code == 200
    client.force_login(admin_user)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/orders/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    answer = api.post("/api/v1/orders/", [ORDER] * 20, format="json")
    assert answer.status_code == 413 and "at most 1000" in answer.json()["detail"]
    assert not Order.objects.exists()
