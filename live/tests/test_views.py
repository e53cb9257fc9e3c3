"""`POST /api/v1/push/<source>/` end to end, for each kind: stored, verified, applied, answered."""

import json

import pytest

from fulfillment.models import Parcel, ParcelStatus, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import at
from live.models import PushDelivery, SourceKind
from live.tests.factories import PushSourceFactory
from live.tests.pushes import (
    kdniao_request,
    kuaidi100_param,
    post_generic,
    post_kdniao,
    post_kuaidi100,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def parcel():
    return ParcelFactory(
        shipped=True,
        carrier=CarrierFactory(code="YTO"),
        tracking_no="YT100",
        order=OrderFactory(paid_at=at("2026-03-02 08:00")),
        shipped_at=at("2026-03-02 09:00"),
    )


def generic_event(**overrides):
    return {
        "carrier_code": "YTO",
        "tracking_no": "YT100",
        "code": "picked_up",
        "occurred_at": "2026-03-02 18:00",
        "location": "杭州市余杭区",
        "description": "快件已揽收",
        "outlet_code": "HZ-YH",
        **overrides,
    }


# ---- generic -------------------------------------------------------------------------------


def test_generic_push_stores_the_events_and_moves_the_parcel(client, parcel):
    source = PushSourceFactory(name="erp-tracker")
    events = [generic_event(), generic_event(code="in_transit", occurred_at="2026-03-03 02:00", outlet_code="")]

    response = post_generic(client, source, events)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["processed"], answer["entries"], answer["inserted"], answer["rejected"]) == (True, 2, 2, 0)
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.IN_TRANSIT
    assert parcel.picked_up_at == at("2026-03-02 18:00")
    delivery = PushDelivery.objects.get()
    assert delivery.verified and delivery.processed_at is not None
    assert json.loads(delivery.body) == events


def test_a_repeated_push_stores_nothing_twice(client, parcel):
    source = PushSourceFactory()
    post_generic(client, source, [generic_event()])

    answer = post_generic(client, source, [generic_event()]).json()

    assert (answer["inserted"], answer["unchanged"]) == (0, 1)
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 1
    assert PushDelivery.objects.count() == 2  # both bodies are kept


def test_a_bad_signature_is_refused_and_stored_unverified(client, parcel):
    source = PushSourceFactory()

    response = post_generic(client, source, [generic_event()], secret="not-the-secret")

    assert response.status_code == 403
    delivery = PushDelivery.objects.get()
    assert not delivery.verified and delivery.processed_at is None
    assert "YT100" in delivery.body
    assert not TrackingEvent.objects.exists()


def test_malformed_entries_are_reported_one_by_one_and_the_others_applied(client, parcel):
    source = PushSourceFactory()
    events = [
        generic_event(),
        generic_event(code="teleported", occurred_at="2026-03-03 02:00"),
        "not an object",
        generic_event(code="in_transit", occurred_at="next tuesday"),
        generic_event(tracking_no="YT404", occurred_at="2026-03-03 05:00"),
        generic_event(carrier_code="NOPE", occurred_at="2026-03-03 06:00"),
    ]

    answer = post_generic(client, source, events).json()

    assert (answer["inserted"], answer["rejected"]) == (1, 5)
    by_entry = {error["entry"]: (error["ref"], error["field"]) for error in answer["errors"]}
    assert by_entry == {
        1: ("[1]", "code"),
        2: ("[2]", ""),
        3: ("[3]", "occurred_at"),
        4: ("[4]", "tracking_no"),
        5: ("[5]", "carrier_code"),
    }
    assert "unknown parcel" in answer["errors"][3]["message"]
    assert PushDelivery.objects.get().outcome["rejected"] == 5
    assert TrackingEvent.objects.count() == 1


def test_a_body_that_is_not_json_is_answered_400_and_kept(client, parcel):
    source = PushSourceFactory()

    response = post_generic(client, source, None, raw=b'[{"tracking_no": ')

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"
    assert PushDelivery.objects.get().body == '[{"tracking_no": '


def test_too_many_entries_are_refused_whole(client, parcel, settings):
    settings.LIVE_PUSH_MAX_ENTRIES = 3
    source = PushSourceFactory()

    response = post_generic(client, source, [generic_event(occurred_at=f"2026-03-02 1{i}:00") for i in range(4)])

    assert response.status_code == 400
    assert "at most 3" in response.json()["message"]
    assert not TrackingEvent.objects.exists()


def test_a_body_over_the_limit_is_413(client, settings):
    settings.LIVE_PUSH_MAX_BODY_BYTES = 100
    source = PushSourceFactory()

    response = post_generic(client, source, None, raw=b"[" + b" " * 200 + b"]")

    assert response.status_code == 413
    assert not PushDelivery.objects.exists()


def test_unknown_and_inactive_sources_are_404(client):
    inactive = PushSourceFactory(active=False)
    assert client.post("/api/v1/push/nobody/", data=b"[]", content_type="application/json").status_code == 404
    assert post_generic(client, inactive, []).status_code == 404
    assert client.get(url(PushSourceFactory())).status_code == 405
    assert not PushDelivery.objects.exists()


# ---- kuaidi100 -----------------------------------------------------------------------------


def kuaidi100_node(time, status, context="快件已揽收", area="浙江省,杭州市"):
    return {"time": time, "ftime": time, "context": context, "status": status, "areaName": area}


def test_kuaidi100_push_maps_the_carrier_and_status_words(client, parcel):
    source = PushSourceFactory(kind=SourceKind.KUAIDI100)
    param = kuaidi100_param(
        com="yuantong",
        nu="YT100",
        nodes=[kuaidi100_node("2026-03-03 09:00:00", "派件", "快件正在派送"), kuaidi100_node("2026-03-02 18:00:00", "揽收")],
    )

    response = post_kuaidi100(client, source, param)

    assert response.status_code == 200
    assert response.json() == {"result": True, "returnCode": "200", "message": "成功"}
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.OUT_FOR_DELIVERY
    assert parcel.picked_up_at == at("2026-03-02 18:00")
    assert TrackingEvent.objects.get(code="out_for_delivery").location == "浙江省,杭州市"


def test_kuaidi100_unknown_status_word_is_info_and_unknown_carrier_is_reported(client, parcel):
    source = PushSourceFactory(kind=SourceKind.KUAIDI100)
    post_kuaidi100(client, source, kuaidi100_param(nodes=[kuaidi100_node("2026-03-02 18:00:00", "转投")]))
    assert TrackingEvent.objects.get().code == "info"

    post_kuaidi100(client, source, kuaidi100_param(com="huitongkuaidi", nodes=[kuaidi100_node("2026-03-02 19:00:00", "揽收")]))

    outcome = PushDelivery.objects.order_by("pk").last().outcome
    assert outcome["errors"][0]["field"] == "carrier_code"
    assert "huitongkuaidi" in outcome["errors"][0]["message"]
    assert outcome["errors"][0]["ref"] == "lastResult.data[0]"


def test_kuaidi100_bad_sign_is_403_in_its_format(client, parcel):
    source = PushSourceFactory(kind=SourceKind.KUAIDI100)

    response = post_kuaidi100(client, source, kuaidi100_param(nodes=[]), secret="wrong")

    assert response.status_code == 403
    assert response.json()["result"] is False
    assert not PushDelivery.objects.get().verified


# ---- kdniao --------------------------------------------------------------------------------


def test_kdniao_push_stores_the_traces_and_answers_in_its_format(client, parcel):
    source = PushSourceFactory(kind=SourceKind.KDNIAO)
    request_data = kdniao_request(
        shipper="YTO",
        logistic="YT100",
        traces=[
            {"AcceptTime": "2026-03-02 18:00:00", "AcceptStation": "【杭州市】已揽收", "Location": "杭州市", "Action": "1"},
            {"AcceptTime": "2026-03-04 11:00:00", "AcceptStation": "已签收", "Location": "深圳市", "Action": "301"},
        ],
    )

    response = post_kdniao(client, source, request_data)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["EBusinessID"], answer["Success"], answer["Reason"]) == ("1237100", True, "")
    assert len(answer["UpdateTime"]) == 19
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.DELIVERED
    assert parcel.delivered_at == at("2026-03-04 11:00")


def test_kdniao_bad_sign_and_wrong_request_type(client, parcel):
    source = PushSourceFactory(kind=SourceKind.KDNIAO)
    traces = [{"AcceptTime": "2026-03-02 18:00:00", "AcceptStation": "已揽收", "Action": "1"}]

    refused = post_kdniao(client, source, kdniao_request(traces=traces), secret="wrong")
    wrong_type = post_kdniao(client, source, kdniao_request(traces=traces), request_type="102")

    assert refused.status_code == 403 and refused.json()["Success"] is False
    assert wrong_type.status_code == 400 and "101" in wrong_type.json()["Reason"]
    assert not Parcel.objects.filter(status=ParcelStatus.PICKED_UP).exists()


def test_nul_and_lone_surrogates_are_rejected_per_entry_not_stored(client, parcel):
    source = PushSourceFactory()
    raw = (
        b'[{"carrier_code": "YTO", "tracking_no": "YT100", "code": "picked_up", "occurred_at": "2026-03-02 18:00",'
        b' "description": "bad \\u0000 text"},'
        b' {"carrier_code": "YTO", "tracking_no": "YT100", "code": "picked_up", "occurred_at": "2026-03-02 19:00",'
        b' "location": "\\ud800"}]'
    )

    response = post_generic(client, source, None, raw=raw)

    assert response.status_code == 200
    assert [error["ref"] for error in response.json()["errors"]] == ["[0]", "[1]"]
    assert not TrackingEvent.objects.exists()


def test_a_raw_nul_byte_in_the_body_is_kept_and_answered(client):
    source = PushSourceFactory()
    response = post_generic(client, source, None, raw=b"[\x00]")
    assert response.status_code == 400
    assert PushDelivery.objects.get().body == "[\ufffd]"


# ---- with a broker -------------------------------------------------------------------------


def test_with_a_broker_the_push_is_answered_as_queued_and_processed_by_the_worker(client, parcel):
    from unittest import mock

    from live.tasks import process_push_delivery

    source = PushSourceFactory()
    with mock.patch.object(process_push_delivery, "delay") as queued:
        response = post_generic(client, source, [generic_event()])

    assert response.status_code == 202
    assert response.json()["processed"] is False
    delivery = PushDelivery.objects.get()
    queued.assert_called_once_with(delivery.pk)
    assert not TrackingEvent.objects.exists()

    process_push_delivery(delivery.pk)  # what the worker runs

    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.PICKED_UP


def test_an_unreachable_broker_still_answers_stored(client, parcel):
    from unittest import mock

    from live.tasks import process_push_delivery

    source = PushSourceFactory(kind=SourceKind.KUAIDI100)
    with mock.patch.object(process_push_delivery, "delay", side_effect=ConnectionError("broker down")):
        response = post_kuaidi100(client, source, kuaidi100_param(nodes=[kuaidi100_node("2026-03-02 18:00:00", "揽收")]))

    assert response.status_code == 200 and response.json()["result"] is True
    assert PushDelivery.objects.get(processed_at__isnull=True).verified


def test_warehouse_nodes_arrive_by_push_as_our_codes_or_as_status_words(client, parcel):
    """Generic pushes use our codes; kuaidi100's seeded words 仓库接单 … 已打包 map to them. They set
    the warehouse milestones and move no status."""
    source = PushSourceFactory(name="wms")
    events = [generic_event(code="wh_accepted", occurred_at="2026-03-02 08:10", outlet_code="", location="杭州仓")]
    assert post_generic(client, source, events).json()["inserted"] == 1
    pushed = PushSourceFactory(kind=SourceKind.KUAIDI100)
    param = kuaidi100_param(
        com="yuantong",
        nu="YT100",
        nodes=[kuaidi100_node("2026-03-02 10:30:00", "已打包", "已打包"), kuaidi100_node("2026-03-02 09:20:00", "拣货")],
    )
    assert post_kuaidi100(client, pushed, param).status_code == 200

    parcel.refresh_from_db()
    assert (parcel.accepted_at, parcel.picked_at, parcel.packed_at) == (
        at("2026-03-02 08:10"), at("2026-03-02 09:20"), at("2026-03-02 10:30")
    )
    assert parcel.status == ParcelStatus.SHIPPED and parcel.last_event_at is None
