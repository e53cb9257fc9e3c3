"""The signature rules against the senders' own published examples."""

import pytest

from live.models import SourceKind
from live.signatures import generic_signature, kdniao_data_sign, signature_valid

# kdniao's documentation: this RequestData and API key sign as this DataSign (shown URL-encoded as …%3D).
KDNIAO_EXAMPLE = ("{'OrderCode':'','ShipperCode':'SF','LogisticCode':'118954907573'}", "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17")


def test_kdniao_data_sign_matches_the_documented_example():
    assert kdniao_data_sign(request_data=KDNIAO_EXAMPLE[0], secret=KDNIAO_EXAMPLE[1]) == "OWFhM2I5N2ViM2U2MGRkMjc4YzU2NmVlZWI3ZDk0MmE="


@pytest.mark.parametrize("sign", ["OWFhM2I5N2ViM2U2MGRkMjc4YzU2NmVlZWI3ZDk0MmE%3D", "OWFhM2I5N2ViM2U2MGRkMjc4YzU2NmVlZWI3ZDk0MmE="])
def test_kdniao_accepts_the_data_sign_url_encoded_or_not(sign):
    from urllib.parse import urlencode

    body = urlencode({"RequestData": KDNIAO_EXAMPLE[0], "DataSign": sign, "RequestType": "101"}).encode()
    assert signature_valid(kind=SourceKind.KDNIAO, secret=KDNIAO_EXAMPLE[1], body=body, headers={})


def test_generic_signature_is_the_hmac_of_the_exact_bytes():
    body = b'[{"tracking_no": "YT1"}]'
    header = {"X-Signature": generic_signature(secret="s3cret", body=body)}
    assert header["X-Signature"].startswith("sha256=")
    assert signature_valid(kind=SourceKind.GENERIC, secret="s3cret", body=body, headers=header)
    assert not signature_valid(kind=SourceKind.GENERIC, secret="s3cret", body=body + b" ", headers=header)
    assert not signature_valid(kind=SourceKind.GENERIC, secret="other", body=body, headers=header)
    assert not signature_valid(kind=SourceKind.GENERIC, secret="s3cret", body=body, headers={})


def test_an_empty_secret_verifies_nothing():
    body = b"[]"
    header = {"X-Signature": generic_signature(secret="", body=body)}
    assert not signature_valid(kind=SourceKind.GENERIC, secret="", body=body, headers=header)
