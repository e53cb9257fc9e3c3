"""The bag's scan page: the JSON endpoint scan.js feeds, the no-script form (PRG), the log, shop access."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from fulfillment.models import Platform
from fulfillment.tests.factories import ShopFactory
from pickups import services
from pickups.models import BagStatus
from pickups.tests.factories import parcels_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="acme", name="Acme")


def open_bag(shop):
    return services.bag_create(shop=shop, sorting_centre="SZ", by=None)


def scan_json(client, bag, numbers):
    return client.post(
        reverse("admin:pickups_consolidationbag_scan_json", args=[bag.pk]),
        json.dumps({"numbers": numbers}),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )


def test_the_json_endpoint_answers_one_result_per_scan_in_order_with_the_totals(warehouse_client, shop):
    bag = open_bag(shop)
    first, second = parcels_for(shop, 2)

    response = scan_json(
        warehouse_client, bag, [first.tracking_no.lower() + "\r\n", "nope-1", f"]C1{second.tracking_no}", first.tracking_no]
    )

    assert response.status_code == 200
    body = response.json()
    assert [(r["tracking_no"], r["outcome"], r["tone"]) for r in body["results"]] == [
        (first.tracking_no, "added", "added"),
        ("NOPE-1", "unknown", "refused"),
        (second.tracking_no, "added", "added"),
        (first.tracking_no, "already_in_this_bag", "notice"),
    ]
    assert body["results"][1]["message"] == "Unknown tracking number."
    assert [row["tracking_no"] for row in body["parcels"]] == [first.tracking_no, second.tracking_no]
    assert body["parcels"][0]["weight_kg"] == "0.800" and body["parcels"][0]["order_id"] == first.order.order_id
    assert body["totals"] == {
        "parcels": 2,
        "max_parcels": 300,
        "weight_kg": "1.60",
        "max_weight_kg": "50",
        "over_parcels": False,
        "over_weight": False,
        "added": 2,
        "refused": 2,
    }
    assert set(bag.items.values_list("parcel__tracking_no", flat=True)) == {first.tracking_no, second.tracking_no}


def test_the_json_endpoint_keeps_counting_across_requests_and_the_page_shows_the_log(warehouse_client, shop):
    bag = open_bag(shop)
    parcels = parcels_for(shop, 3)
    for parcel in parcels:
        scan_json(warehouse_client, bag, [parcel.tracking_no])
    totals = scan_json(warehouse_client, bag, ["UNKNOWN-9"]).json()["totals"]
    assert (totals["parcels"], totals["added"], totals["refused"]) == (3, 3, 1)

    html = warehouse_client.get(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk])).content.decode()
    log = html[html.index('id="scan-log"') :]
    assert log.index("UNKNOWN-9") < log.index(parcels[2].tracking_no) < log.index(parcels[0].tracking_no)  # newest first
    assert log.count('data-outcome="added"') == 3 and log.count('data-outcome="unknown"') == 1
    assert 'id="scan-added" >3<' in html.replace('id="scan-added">', 'id="scan-added" >')
    assert "pickups/scan.js" in html


def test_the_json_endpoint_refuses_a_closed_bag_and_bad_input(warehouse_client, shop):
    bag = open_bag(shop)
    (parcel,) = parcels_for(shop, 1)
    url = reverse("admin:pickups_consolidationbag_scan_json", args=[bag.pk])
    assert warehouse_client.get(url).status_code == 405
    assert warehouse_client.post(url, "not json", content_type="application/json").status_code == 400
    assert warehouse_client.post(url, json.dumps({"numbers": "YT1"}), content_type="application/json").status_code == 400

    bag.status = BagStatus.SEALED
    bag.save()
    response = scan_json(warehouse_client, bag, [parcel.tracking_no])
    assert response.status_code == 409
    assert "only be added to an open bag" in response.json()["error"]
    assert not bag.items.exists()


def test_the_json_endpoint_needs_the_add_permission_and_a_csrf_token(manager_user, warehouse_user, shop):
    bag = open_bag(shop)
    (parcel,) = parcels_for(shop, 1)
    manager = Client()
    manager.force_login(manager_user)
    assert scan_json(manager, bag, [parcel.tracking_no]).status_code == 403

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(warehouse_user)
    assert scan_json(strict, bag, [parcel.tracking_no]).status_code == 403
    assert not bag.items.exists()


def test_without_javascript_the_form_posts_redirects_and_shows_the_last_result(warehouse_client, shop):
    bag = open_bag(shop)
    (parcel,) = parcels_for(shop, 1)
    url = reverse("admin:pickups_consolidationbag_scan", args=[bag.pk])

    response = warehouse_client.post(url, {"tracking_numbers": f"{parcel.tracking_no.lower()}\nNOPE-2\n"})
    assert response.status_code == 302 and response["Location"] == url

    html = warehouse_client.get(url).content.decode()
    last = html[html.index('id="scan-last"') :]
    assert last.index("NOPE-2") < last.index("</div>")  # the newest line is the last result
    assert html.count("scan-latest") == 2
    assert bag.items.get().parcel == parcel


def test_a_lazada_parcel_not_ready_is_offered_and_marked_ready_to_ship_on_the_spot(warehouse_client):
    lazada = ShopFactory(code="lz", platform=Platform.LAZADA)
    bag = open_bag(lazada)
    (parcel,) = parcels_for(lazada, 1, rts_at=None, status="shipped")

    (refused,) = scan_json(warehouse_client, bag, [parcel.tracking_no]).json()["results"]
    assert refused["outcome"] == "not_ready_to_ship"
    html = warehouse_client.get(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk])).content.decode()
    assert "Mark ready to ship and add" in html

    response = warehouse_client.post(
        reverse("admin:pickups_consolidationbag_scan_ready_to_ship", args=[bag.pk]),
        {"tracking_no": parcel.tracking_no.lower()},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    assert [r["outcome"] for r in response.json()["results"]] == ["added"]
    parcel.refresh_from_db()
    assert parcel.rts_at is not None and parcel.status == "bagged"


# --------------------------------------------------------------------------- shop access


@pytest.fixture
def limited_client(warehouse_user, shop):
    shop.members.add(warehouse_user)
    client = Client()
    client.force_login(warehouse_user)
    return client


def test_a_user_limited_to_a_shop_gets_404_for_another_shops_bag(limited_client, shop):
    other = ShopFactory(code="rival")
    theirs = open_bag(other)
    (their_parcel,) = parcels_for(other, 1)
    mine = open_bag(shop)
    for name, args in (("scan", [theirs.pk]), ("label", [theirs.pk]), ("claim_evidence", [theirs.pk, "csv"])):
        assert limited_client.get(reverse(f"admin:pickups_consolidationbag_{name}", args=args)).status_code == 404
    # The admin's own change page treats a bag it cannot find by redirecting to the index.
    change = limited_client.get(reverse("admin:pickups_consolidationbag_change", args=[theirs.pk]))
    assert change.status_code == 302 and change["Location"] == reverse("admin:index")
    assert scan_json(limited_client, theirs, [their_parcel.tracking_no]).status_code == 404
    post_scan = limited_client.post(
        reverse("admin:pickups_consolidationbag_scan", args=[theirs.pk]), {"tracking_numbers": their_parcel.tracking_no}
    )
    assert post_scan.status_code == 404
    assert not theirs.items.exists()

    # Their parcel scanned into my bag: refused, without naming their shop.
    (result,) = scan_json(limited_client, mine, [their_parcel.tracking_no]).json()["results"]
    assert result["outcome"] == "other_shop" and "rival" not in result["message"]
    assert limited_client.get(reverse("admin:pickups_consolidationbag_scan", args=[mine.pk])).status_code == 200


def test_the_bag_list_shows_only_the_users_shops(limited_client, shop):
    theirs = open_bag(ShopFactory(code="rival"))
    mine = open_bag(shop)
    html = limited_client.get(reverse("admin:pickups_consolidationbag_changelist")).content.decode()
    assert mine.number in html and theirs.number not in html


def test_the_session_keeps_the_logs_of_the_last_bags_only_and_counts_past_the_kept_lines(warehouse_client, shop):
    from pickups.admin import bag_scan

    bags = [open_bag(shop) for _ in range(bag_scan.SCAN_LOGS_KEPT + 1)]
    for bag in bags:
        scan_json(warehouse_client, bag, ["NOPE-1"])
    logs = warehouse_client.session[bag_scan._LOGS]
    assert list(logs) == [str(bag.pk) for bag in bags[1:]]

    totals = scan_json(warehouse_client, bags[-1], ["NOPE"] * (bag_scan.SCAN_LOG_SIZE + 10)).json()["totals"]
    assert totals["refused"] == bag_scan.SCAN_LOG_SIZE + 11
    assert len(warehouse_client.session[bag_scan._LOGS][str(bags[-1].pk)]["entries"]) == bag_scan.SCAN_LOG_SIZE


def test_a_user_limited_to_a_shop_cannot_seal_another_shops_bag(limited_client, warehouse_user, shop):
    from pickups.tests.test_services import open_bag as sealable_bag

    theirs = sealable_bag(ShopFactory(code="rival"), parcels=1)
    mine = sealable_bag(shop, parcels=1)
    url = reverse("admin:pickups_consolidationbag_changelist")
    limited_client.post(url, {"action": "seal_bags", "_selected_action": [theirs.pk, mine.pk]})
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (mine.status, theirs.status) == (BagStatus.SEALED, BagStatus.OPEN)
