"""The seeded mapping rows (DESIGN.md "Tracking pushes") and that they are data: an edited row is used."""

import json

import pytest

from fulfillment.models import EventCode, TrackingEvent
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory
from fulfillment.tests.import_files import at
from live.models import CarrierCodeMapping, SourceKind, StatusWordMapping
from live.tests.factories import PushSourceFactory
from live.tests.pushes import kuaidi100_param, post_kuaidi100

pytestmark = pytest.mark.django_db


def test_kuaidi100_carriers_and_status_words_are_seeded():
    carriers = dict(CarrierCodeMapping.objects.filter(kind=SourceKind.KUAIDI100).values_list("their_code", "carrier_code"))
    words = dict(StatusWordMapping.objects.filter(kind=SourceKind.KUAIDI100).values_list("word", "code"))
    assert carriers == {
        "zhongtong": "ZTO", "yuantong": "YTO", "shentong": "STO", "yunda": "YD",
        "shunfeng": "SF", "jtexpress": "JT", "ems": "EMS",
    }
    assert {w: words[w] for w in ("揽收", "派件", "签收", "疑难", "退回", "退签")} == {
        "揽收": "picked_up", "派件": "out_for_delivery", "签收": "delivered",
        "疑难": "exception", "退回": "returned", "退签": "returned",
    }
    seeded_codes = set(StatusWordMapping.objects.values_list("code", flat=True))
    assert seeded_codes <= set(EventCode.values)


def test_an_added_mapping_row_is_used_by_the_next_push(client):
    ParcelFactory(shipped=True, carrier=CarrierFactory(code="HTKY"), tracking_no="HT1",
                  order=OrderFactory(paid_at=at("2026-03-02 08:00")))
    CarrierCodeMapping.objects.create(kind=SourceKind.KUAIDI100, their_code="huitongkuaidi", carrier_code="HTKY")
    StatusWordMapping.objects.create(kind=SourceKind.KUAIDI100, word="转投", code=EventCode.IN_TRANSIT)
    source = PushSourceFactory(kind=SourceKind.KUAIDI100)
    node = {"time": "2026-03-02 18:00:00", "context": "转投", "status": "转投", "areaName": ""}

    response = post_kuaidi100(client, source, kuaidi100_param(com="huitongkuaidi", nu="HT1", nodes=[node]))

    assert json.loads(response.content)["result"] is True
    assert TrackingEvent.objects.get().code == EventCode.IN_TRANSIT
