"""Bodies as each sender signs and posts them, for the tests."""

import json
from urllib.parse import urlencode

from django.urls import reverse

from live.signatures import generic_signature, kdniao_data_sign, kuaidi100_sign


def url(source) -> str:
    return reverse("live:push", args=[source.name])


def post_generic(client, source, events, *, secret=None, raw=None):
    body = raw if raw is not None else json.dumps(events, ensure_ascii=False).encode()
    signature = generic_signature(secret=secret or source.secret, body=body)
    return client.post(url(source), data=body, content_type="application/json", HTTP_X_SIGNATURE=signature)


def kuaidi100_param(*, com="yuantong", nu="YT100", nodes=()) -> str:
    return json.dumps(
        {"status": "polling", "lastResult": {"message": "ok", "state": "0", "com": com, "nu": nu, "data": list(nodes)}},
        ensure_ascii=False,
    )


def post_kuaidi100(client, source, param: str, *, secret=None):
    body = urlencode({"param": param, "sign": kuaidi100_sign(secret=secret or source.secret, param=param)})
    return client.post(url(source), data=body, content_type="application/x-www-form-urlencoded")


def kdniao_request(*, shipper="YTO", logistic="YT100", traces=(), business_id="1237100") -> str:
    return json.dumps(
        {
            "PushTime": "2026-03-03 10:00:00",
            "EBusinessID": business_id,
            "Count": "1",
            "Data": [{"EBusinessID": business_id, "ShipperCode": shipper, "LogisticCode": logistic, "Success": True,
                      "State": "2", "Traces": list(traces)}],
        },
        ensure_ascii=False,
    )


def post_kdniao(client, source, request_data: str, *, secret=None, request_type="101"):
    sign = kdniao_data_sign(secret=secret or source.secret, request_data=request_data)
    body = urlencode({"RequestData": request_data, "DataSign": sign, "RequestType": request_type})
    return client.post(url(source), data=body, content_type="application/x-www-form-urlencoded")
