import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.paginators import EstimatedCountPaginator
from fulfillment.models import Parcel, ParcelStatus, TrackingEvent
from fulfillment.tests.factories import CarrierOutletFactory, ParcelFactory, ShopFactory, TrackingEventFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
T0 = datetime.datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def change_url(parcel):
    return reverse("admin:fulfillment_parcel_change", args=[parcel.pk])


CHANGELIST = reverse("admin:fulfillment_parcel_changelist")


def form_inputs(html: str) -> dict[str, str]:
    """The hidden and text inputs a browser would submit with the change form."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name and 'type="checkbox"' not in tag and 'type="submit"' not in tag:
            value = re.search(r'value="([^"]*)"', tag)
            data[name.group(1)] = value.group(1) if value else ""
    return data


def result_tracking_numbers(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<th class="field-tracking_no_or_untracked"><a href="[^"]*">([^<]+)</a>', html)


def test_parcel_page_lists_events_newest_first(manager_client):
    parcel = ParcelFactory(picked_up=True)
    # Inserted out of order, as late events arrive.
    for hours, place in [(5, "深圳转运中心"), (1, "杭州揽收网点"), (9, "深圳南山派件点"), (3, "杭州转运中心")]:
        TrackingEventFactory(parcel=parcel, occurred_at=T0 + datetime.timedelta(hours=hours), location=place)

    html = manager_client.get(change_url(parcel)).content.decode()

    positions = [html.index(place) for place in ("深圳南山派件点", "深圳转运中心", "杭州转运中心", "杭州揽收网点")]
    assert positions == sorted(positions)


def test_parcel_page_shows_only_the_latest_fifty_events(manager_client):
    parcel = ParcelFactory(picked_up=True)
    TrackingEvent.objects.bulk_create(
        TrackingEvent(
            parcel=parcel, code="in_transit", occurred_at=T0 + datetime.timedelta(minutes=i), location=f"站点{i:03d}"
        )
        for i in range(60)
    )

    html = manager_client.get(change_url(parcel)).content.decode()

    assert "站点059" in html and "站点010" in html
    assert "站点009" not in html and "站点000" not in html


def test_status_and_milestones_cannot_be_typed_even_by_a_superuser(admin_client):
    parcel = ParcelFactory(picked_up=True, weight_kg="0.800")
    TrackingEventFactory(parcel=parcel, code="picked_up", occurred_at=T0)
    url = change_url(parcel)

    form_html = admin_client.get(url).content.decode()
    assert 'name="status"' not in form_html
    assert 'name="picked_up_at' not in form_html
    assert 'name="pickup_due_at' not in form_html

    data = form_inputs(form_html)
    assert data["events-INITIAL_FORMS"] == "1"
    data.update(status=ParcelStatus.DELIVERED, picked_up_at="2020-01-01 00:00", weight_kg="1.250", _save="1")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.PICKED_UP
    assert str(parcel.weight_kg) == "1.250"


def test_nobody_adds_a_parcel_by_hand(admin_client):
    assert admin_client.get(reverse("admin:fulfillment_parcel_add")).status_code == 403


def test_search_finds_tracking_number_exactly_or_by_prefix_but_not_by_substring(manager_client):
    ParcelFactory(shipped=True, tracking_no="YT8800001111")
    ParcelFactory(shipped=True, tracking_no="YT8800002222")
    ParcelFactory(shipped=True, tracking_no="ZT1234567890")

    exact = manager_client.get(CHANGELIST, {"q": "YT8800001111"})
    assert result_tracking_numbers(exact) == ["YT8800001111"]

    prefix = manager_client.get(CHANGELIST, {"q": "yt88000"})
    assert sorted(result_tracking_numbers(prefix)) == ["YT8800001111", "YT8800002222"]

    middle = manager_client.get(CHANGELIST, {"q": "8800001111"})
    assert result_tracking_numbers(middle) == []


def test_search_finds_several_pasted_tracking_numbers_and_order_ids(manager_client):
    first = ParcelFactory(shipped=True, tracking_no="SF100000000001")
    ParcelFactory(shipped=True, tracking_no="SF100000000002")
    third = ParcelFactory(shipped=True, tracking_no="SF100000000003")

    response = manager_client.get(CHANGELIST, {"q": "SF100000000001, SF100000000003"})
    assert sorted(result_tracking_numbers(response)) == ["SF100000000001", "SF100000000003"]

    by_order = manager_client.get(CHANGELIST, {"q": first.order.order_id})
    assert result_tracking_numbers(by_order) == ["SF100000000001"]
    assert third.tracking_no not in result_tracking_numbers(by_order)


def test_changelist_shows_times_in_the_shop_time_zone(manager_client):
    shop = ShopFactory(code="lazada-th", timezone="Asia/Bangkok")
    ParcelFactory(shipped=True, tracking_no="LZ0001", order__shop=shop, order__paid_at=T0)  # 02:00 UTC

    html = manager_client.get(CHANGELIST).content.decode()

    assert "2026-11-20 09:00" in html  # UTC+7, not the site's Asia/Shanghai (10:00)


def test_parcel_page_shows_milestones_and_events_in_the_shop_time_zone(manager_client):
    shop = ShopFactory(code="lazada-th-2", timezone="Asia/Bangkok")
    parcel = ParcelFactory(shipped=True, order__shop=shop, order__paid_at=T0)
    TrackingEventFactory(parcel=parcel, occurred_at=T0 + datetime.timedelta(hours=5), location="吉隆坡分拨中心")

    html = manager_client.get(change_url(parcel)).content.decode()

    assert "Asia/Bangkok" in html
    def shows(time):  # a whole hour, not the end of another time ("11:03 p.m." of a created-at stamp)
        return re.search(rf"(?<![\d:]){re.escape(time)}", html) is not None

    assert shows("9 a.m.") and not shows("10 a.m.")  # paid 02:00 UTC; Asia/Shanghai would say 10 a.m.
    assert shows("2 p.m.") and not shows("3 p.m.")  # the event, 07:00 UTC


def test_a_parcel_page_with_a_bad_key_is_not_a_server_error(manager_client):
    response = manager_client.get("/admin/fulfillment/parcel/not-a-number/change/")
    assert response.status_code == 302


def test_parcel_page_shows_its_alerts_to_managers_only(client, manager_user, warehouse_user):
    parcel = ParcelFactory(shipped=True)
    # Through the reverse relation: fulfillment does not import monitoring.
    parcel.alerts.create(kind="pickup_overdue", level="overdue", raised_at=T0, due_at=T0)
    url = change_url(parcel)

    client.force_login(manager_user)
    assert "Not picked up in time" in client.get(url).content.decode()
    client.force_login(warehouse_user)
    warehouse_page = client.get(url)
    assert warehouse_page.status_code == 200
    assert "Not picked up in time" not in warehouse_page.content.decode()


def test_mark_ready_to_ship_action_is_refused_without_permission(manager_client):
    parcel = ParcelFactory(shipped=True)

    response = manager_client.post(
        CHANGELIST, {"action": "mark_ready_to_ship", "_selected_action": [parcel.pk]}, follow=True
    )

    parcel.refresh_from_db()
    assert parcel.rts_at is None
    assert response.status_code in (200, 403)


def test_warehouse_clerk_marks_shipped_parcels_ready_and_sees_the_skipped_ones(warehouse_client):
    client = warehouse_client
    shipped = ParcelFactory(shipped=True)
    already = ParcelFactory(ready=True)
    untracked = ParcelFactory()

    response = client.post(
        CHANGELIST,
        {"action": "mark_ready_to_ship", "_selected_action": [shipped.pk, already.pk, untracked.pk]},
        follow=True,
    )

    shipped.refresh_from_db()
    untracked.refresh_from_db()
    assert shipped.rts_at is not None
    assert shipped.status == ParcelStatus.READY_TO_SHIP
    assert untracked.rts_at is None
    text = response.content.decode()
    assert "1 parcel marked ready to ship." in text
    assert "2 skipped:" in text
    assert f"{already}: already marked ready to ship" in text
    assert f"{untracked}: no tracking number yet" in text


def test_paginator_counts_exactly_when_the_table_is_small():
    ParcelFactory.create_batch(3, shipped=True)
    paginator = EstimatedCountPaginator(Parcel.objects.order_by("pk"), 2)
    assert paginator.count == 3
    assert paginator.num_pages == 2


@pytest.mark.postgres
def test_unfiltered_parcel_list_does_not_count_the_table_on_postgresql(manager_client, monkeypatch):
    ParcelFactory.create_batch(4, shipped=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE fulfillment_parcel")
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_threshold", 1)

    with CaptureQueriesContext(connection) as unfiltered:
        response = manager_client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(result_tracking_numbers(response)) == 4
    parcel_counts = [q["sql"] for q in unfiltered if "COUNT(" in q["sql"].upper() and "fulfillment_parcel" in q["sql"]]
    assert parcel_counts == []
    assert any("reltuples" in q["sql"] for q in unfiltered)

    # A filtered list counts exactly: an estimate would be wrong there.
    with CaptureQueriesContext(connection) as filtered:
        manager_client.get(CHANGELIST, {"status__exact": ParcelStatus.SHIPPED})
    assert any("COUNT(" in q["sql"].upper() and "fulfillment_parcel" in q["sql"] for q in filtered)


def test_paid_within_filter_keeps_recent_parcels_only(manager_client):
    from django.utils import timezone

    now = timezone.now()
    ParcelFactory(shipped=True, tracking_no="RECENT0001", order__paid_at=now - datetime.timedelta(hours=5))
    ParcelFactory(shipped=True, tracking_no="OLDER00001", order__paid_at=now - datetime.timedelta(days=40))

    recent = manager_client.get(CHANGELIST, {"paid_within": "1"})
    older = manager_client.get(CHANGELIST, {"paid_within": "older"})

    assert result_tracking_numbers(recent) == ["RECENT0001"]
    assert result_tracking_numbers(older) == ["OLDER00001"]


def test_editing_an_order_moves_its_parcels_deadlines(admin_client, django_capture_on_commit_callbacks):
    """A destination made remote: the running parcel's stagnation clock becomes 96 h, at once."""
    import datetime

    from fulfillment.signals import parcels_changed
    from fulfillment.tests.factories import RegionFactory
    from monitoring.deadlines import recompute_deadlines

    RegionFactory(province="西藏自治区", city="", is_remote=True)
    parcel = ParcelFactory(picked_up=True)
    recompute_deadlines(parcel_ids=[parcel.pk])
    parcel.refresh_from_db()
    assert parcel.stagnation_due_at == parcel.last_event_at + datetime.timedelta(hours=72)
    announced = []

    def receiver(sender, parcel_ids, reason, **kwargs):
        announced.append((list(parcel_ids), reason))

    parcels_changed.connect(receiver, dispatch_uid="test-order-edit")
    try:
        url = reverse("admin:fulfillment_order_change", args=[parcel.order.pk])
        data = form_inputs(admin_client.get(url).content.decode())
        data.update(dest_province="西藏自治区", dest_city="拉萨市", amount="199.00", _save="1")
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, data)
    finally:
        parcels_changed.disconnect(dispatch_uid="test-order-edit")

    assert response.status_code == 302
    parcel.refresh_from_db()
    assert parcel.order.dest_province == "西藏自治区"
    assert parcel.stagnation_due_at == parcel.last_event_at + datetime.timedelta(hours=96)
    assert ([parcel.pk], "order_edited") in announced


@pytest.mark.parametrize(
    "url_name",
    ["fulfillment_parcel_changelist", "fulfillment_trackingevent_changelist", "fulfillment_order_changelist"],
)
def test_change_lists_do_not_query_once_per_row(manager_client, url_name):
    """list_select_related covers every column: 30 rows cost the same queries as 3."""
    url = reverse(f"admin:{url_name}")

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(url).status_code == 200
        return len(captured)

    for _ in range(3):
        TrackingEventFactory(outlet=CarrierOutletFactory())
    few = queries_for_page()
    for _ in range(27):
        TrackingEventFactory(outlet=CarrierOutletFactory())
    many = queries_for_page()

    assert many == few


def test_saving_a_parcel_writes_only_the_edited_fields(admin_client, monkeypatch):
    """A clerk corrects the weight while an import records the pickup: the import commits after the
    admin read the row and before it saved. The pickup stays (the save used to write every column back
    as it had read it, and a re-run of the import then found the event "unchanged")."""
    import datetime
    from decimal import Decimal

    from fulfillment.admin import ParcelAdmin
    from fulfillment.models import Parcel

    parcel = ParcelFactory(shipped=True)
    url = reverse("admin:fulfillment_parcel_change", args=[parcel.pk])
    data = form_inputs(admin_client.get(url).content.decode())
    picked_up = parcel.paid_at + datetime.timedelta(hours=5)
    read_then_save = ParcelAdmin.save_form

    def import_commits_meanwhile(self, request, form, change):
        Parcel.objects.filter(pk=parcel.pk).update(picked_up_at=picked_up, status="picked_up")
        return read_then_save(self, request, form, change)

    monkeypatch.setattr(ParcelAdmin, "save_form", import_commits_meanwhile)
    data.update(weight_kg="1.250", _save="1")

    assert admin_client.post(url, data).status_code == 302

    parcel.refresh_from_db()
    assert parcel.weight_kg == Decimal("1.250")
    assert (parcel.picked_up_at, parcel.status) == (picked_up, "picked_up")


def test_an_outlets_contact_is_shown_and_edited_in_the_admin(admin_client):
    from fulfillment.models import CarrierOutlet

    outlet = CarrierOutletFactory(code="HZ01", name="余杭网点")
    url = reverse("admin:fulfillment_carrieroutlet_change", args=[outlet.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="robot_url"' in page and 'name="contact_phone"' in page
    form = {
        "carrier": outlet.carrier_id, "code": "HZ01", "name": "余杭网点", "province": "", "city": "",
        "star_rating": "", "rating_month": "", "contact_name": "王经理", "contact_phone": "0571-1234",
        "robot_kind": "dingtalk", "robot_url": "", "robot_secret": "", "contact_email": "",
    }  # fmt: skip
    refused = admin_client.post(url, form)
    assert refused.status_code == 200 and "Choose the robot and give its webhook URL." in refused.content.decode()
    form["robot_url"] = "https://oapi.dingtalk.com/robot/send?access_token=abc"
    assert admin_client.post(url, form).status_code == 302
    outlet = CarrierOutlet.objects.get(pk=outlet.pk)
    assert (outlet.contact_name, outlet.robot_kind, outlet.has_contact_channel) == ("王经理", "dingtalk", True)
    assert "王经理" in admin_client.get(reverse("admin:fulfillment_carrieroutlet_changelist")).content.decode()


def test_parcel_page_shows_the_warehouse_timeline_in_the_shop_time_zone(manager_client):
    shop = ShopFactory(code="lazada-th-wh", timezone="Asia/Bangkok")
    parcel = ParcelFactory(
        shipped=True,
        order__shop=shop,
        order__paid_at=T0,
        accepted_at=T0 + datetime.timedelta(minutes=5),  # 09:05 in Bangkok
        printed_at=T0 + datetime.timedelta(hours=1, minutes=10),  # 10:10
        picked_at=T0 + datetime.timedelta(hours=2, minutes=20),  # 11:20
    )

    html = manager_client.get(change_url(parcel)).content.decode()

    section = html[html.index("In the warehouse") :]
    for shown in ("9:05 a.m.", "10:10 a.m.", "11:20 a.m."):
        assert shown in section
    assert "10:05 a.m." not in section  # Asia/Shanghai would say 10:05
    assert "packed at" in section.lower()


def test_parcel_page_of_a_shop_without_warehouse_nodes_has_no_warehouse_section(manager_client):
    parcel = ParcelFactory(shipped=True)
    assert "In the warehouse" not in manager_client.get(change_url(parcel)).content.decode()
