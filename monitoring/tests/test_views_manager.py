"""The dashboards as a manager limited to one shop sees them, and the stalled list's tabs and totals."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Platform
from fulfillment.tests.factories import CarrierOutletFactory, OrderFactory, ParcelFactory, ShopFactory
from monitoring.models import AlertKind, AlertLevel
from monitoring.tests.factories import AlertFactory, ComplaintFactory, StagnationTicketFactory

pytestmark = pytest.mark.django_db


def alert_for(shop, *, kind=AlertKind.STAGNATION, level=AlertLevel.OVERDUE, tracking_no, outlet=None, **order):
    parcel = ParcelFactory(
        order=OrderFactory(shop=shop, paid_at=timezone.now() - datetime.timedelta(days=4), **order),
        shipped=True, tracking_no=tracking_no, outlet=outlet,
    )
    return AlertFactory(parcel=parcel, kind=kind, level=level)


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")


@pytest.fixture
def two_shops(manager_user):
    """Shop A (the manager's) and shop B (not theirs), each with an alert, an outlet and a paid parcel."""
    shop_a = ShopFactory(code="shop-a", name="Shop A", platform=Platform.TMALL)
    shop_b = ShopFactory(code="shop-b", name="Shop B", platform=Platform.TMALL)
    shop_a.members.add(manager_user)
    alert_for(shop_a, tracking_no="AAA0001", outlet=CarrierOutletFactory(code="OA", name="Outlet of A"))
    alert_for(shop_b, tracking_no="BBB0001", outlet=CarrierOutletFactory(code="OB", name="Outlet of B"))
    return shop_a, shop_b


@pytest.mark.parametrize("name", ["admin:dashboard_overview", "admin:dashboard_stalled", "admin:dashboard_shops",
                                  "admin:dashboard_outlets"])
def test_a_manager_limited_to_shop_a_sees_nothing_of_shop_b(manager_client, two_shops, name):
    shop_a, shop_b = two_shops

    response = manager_client.get(reverse(name))

    content = response.content.decode()
    assert response.status_code == 200
    assert "BBB0001" not in content and "Shop B" not in content and "Outlet of B" not in content
    if name != "admin:dashboard_overview":
        assert "Shop A" in content
    if name in ("admin:dashboard_shops", "admin:dashboard_outlets"):
        assert response.context["shop"] == shop_a  # the first visible shop by default
        asked = manager_client.get(reverse(name), {"shop": shop_b.pk})
        assert "Outlet of B" not in asked.content.decode() and "scorecards" not in asked.context
        assert "indicators" not in asked.context


def test_a_limited_manager_exports_only_their_shop_and_cannot_ask_for_another(manager_client, two_shops):
    shop_a, shop_b = two_shops
    url = reverse("admin:dashboard_stalled")

    text = csv_text(manager_client.get(url, {"format": "csv"}))
    refused = manager_client.get(url, {"format": "csv", "shop": shop_b.pk})

    assert "AAA0001" in text and "BBB0001" not in text
    assert refused.status_code == 400


def test_stalled_page_has_one_row_per_parcel_tabs_and_a_total(manager_client):
    shop = ShopFactory(code="a", platform=Platform.LAZADA)
    first = alert_for(shop, tracking_no="TWICE01", dest_province="Bangkok", dest_city="Bangkok")
    AlertFactory(parcel=first.parcel, kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.WARNING)
    alert_for(shop, tracking_no="ONCE01", kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.OVERDUE)

    response = manager_client.get(reverse("admin:dashboard_stalled"))
    content = response.content.decode()

    assert content.count(">TWICE01<") == 1
    assert "Bangkok Bangkok" not in content and "Bangkok" in content
    assert response.context["total"].parcels == 2 and response.context["total"].alerts == 3
    tabs = {t["count"].kind: [(lv["level"], lv["n"]) for lv in t["levels"]] for t in response.context["tabs"]}
    assert tabs == {AlertKind.PICKUP_OVERDUE: [("warning", 1), ("overdue", 1)],
                    AlertKind.STAGNATION: [("warning", 0), ("overdue", 1)]}
    warning_tab = response.context["tabs"][0]["levels"][0]["query"]
    filtered = manager_client.get(reverse("admin:dashboard_stalled") + "?" + warning_tab)
    assert [a.parcel.tracking_no for a in filtered.context["page"].rows] == ["TWICE01"]
    assert 'id="stalled-total"' in content


def test_stalled_csv_has_one_row_per_parcel_with_labels_next_to_codes(manager_client):
    shop = ShopFactory(code="a")
    first = alert_for(shop, tracking_no="TWICE01")
    AlertFactory(parcel=first.parcel, kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.WARNING,
                 due_at=first.due_at + datetime.timedelta(hours=1))

    header, *rows = list(csv.reader(io.StringIO(csv_text(
        manager_client.get(reverse("admin:dashboard_stalled"), {"format": "csv"})))))

    (row,) = rows
    assert (row[header.index("kind")], row[header.index("kind (label)")]) == ("stagnation", "Stagnant parcel")
    assert row[header.index("level (label)")] == "Overdue"
    assert row[header.index("other open alerts")] == "pickup_overdue:warning"
    assert row[header.index("status (label)")] == "Shipped (tracking number uploaded)"


def test_stalled_csv_labels_and_header_in_chinese(manager_client):
    alert_for(ShopFactory(code="a"), tracking_no="ZH01")
    manager_client.post(reverse("set_language"), {"language": "zh-hans"})

    text = csv_text(manager_client.get(reverse("admin:dashboard_stalled"), {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans"))

    assert "运单号" in text.splitlines()[0] or "快递单号" in text.splitlines()[0]
    assert "停滞包裹" in text or "停滞" in text


def test_rates_show_decided_and_pending_and_stay_uncoloured_while_undecided(manager_client):
    shop = ShopFactory(code="a", platform=Platform.TMALL)
    now = timezone.now()
    ParcelFactory(order=OrderFactory(shop=shop, paid_at=now - datetime.timedelta(hours=3)), shipped=True,
                  picked_up_at=now - datetime.timedelta(hours=2))
    for _ in range(3):
        ParcelFactory(order=OrderFactory(shop=shop, paid_at=now - datetime.timedelta(hours=3)), shipped=True)

    content = manager_client.get(reverse("admin:dashboard_shops"), {"shop": shop.pk}).content.decode()

    assert "1 of 4 decided" in content
    assert "rate meets-target" not in content and "rate below-target" not in content
    assert "parcels picked up within 48 h of payment ÷ parcels paid" in content


def test_outlet_page_has_the_no_outlet_row_and_the_rating_month(manager_client):
    shop = ShopFactory(code="a")
    outlet = CarrierOutletFactory(name="余杭网点", star_rating=4, rating_month=datetime.date(2026, 5, 1))
    paid = timezone.now() - datetime.timedelta(days=3)
    ParcelFactory(order=OrderFactory(shop=shop, paid_at=paid), shipped=True, outlet=outlet)
    ParcelFactory(order=OrderFactory(shop=shop, paid_at=paid), shipped=True)

    content = manager_client.get(reverse("admin:dashboard_outlets"), {"shop": shop.pk}).content.decode()

    assert 'id="no-outlet"' in content and "No outlet yet" in content
    assert "Cainiao index, 2026-05" in content


@pytest.mark.parametrize("model", ["alert", "complaint", "stagnationticket"])
def test_the_monitoring_admin_lists_and_pages_keep_to_the_users_shops(manager_client, manager_user, model):
    shop_a, shop_b = ShopFactory(code="shop-a"), ShopFactory(code="shop-b")
    shop_a.members.add(manager_user)
    rows = {}
    for shop, number in ((shop_a, "AAA0001"), (shop_b, "BBB0001")):
        parcel = ParcelFactory(order=OrderFactory(shop=shop), shipped=True, tracking_no=number)
        factory = {"alert": AlertFactory, "complaint": ComplaintFactory, "stagnationticket": StagnationTicketFactory}[model]
        rows[number] = factory(parcel=parcel)

    listing = manager_client.get(reverse(f"admin:monitoring_{model}_changelist")).content.decode()
    own = manager_client.get(reverse(f"admin:monitoring_{model}_change", args=[rows["AAA0001"].pk]))
    other = manager_client.get(reverse(f"admin:monitoring_{model}_change", args=[rows["BBB0001"].pk]))

    assert "AAA0001" in listing and "BBB0001" not in listing
    assert own.status_code == 200
    assert other.status_code == 302  # "does not exist": back to the list with a message


def test_period_boxes_show_the_dates_used_in_iso_whatever_the_language(manager_client):
    shop = ShopFactory(code="a")
    manager_client.post(reverse("set_language"), {"language": "zh-hans"})

    html = manager_client.get(reverse("admin:dashboard_outlets"), {"shop": shop.pk}).content.decode()

    today = timezone.localdate(timezone.now())
    assert f'type="date" name="date_to" value="{today:%Y-%m-%d}"' in html
