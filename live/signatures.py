"""Is a push signed with its source's secret? One rule per source kind, as each sender documents it.

- generic: header `X-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>`;
- kuaidi100: form field `sign` = uppercase hex MD5 of the form field `param` followed by the secret
  (the "salt" given when subscribing);
- kdniao: form field `DataSign` = Base64 of the lowercase hex MD5 of `RequestData` followed by the API
  key (kdniao URL-encodes it for requests; a push may carry it either way, both are accepted).

Every comparison is `hmac.compare_digest`: the time taken says nothing about how much matched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote

from .forms_body import form_fields
from .models import SourceKind


def generic_signature(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def kuaidi100_sign(*, secret: str, param: str) -> str:
    return hashlib.md5((param + secret).encode()).hexdigest().upper()  # noqa: S324 — kuaidi100's scheme


def kdniao_data_sign(*, secret: str, request_data: str) -> str:
    digest = hashlib.md5((request_data + secret).encode()).hexdigest()  # noqa: S324 — kdniao's scheme
    return base64.b64encode(digest.encode()).decode()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def signature_valid(*, kind: str, secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    if not secret:
        return False
    if kind == SourceKind.GENERIC:
        given = (headers.get("X-Signature") or "").strip()
        expected = generic_signature(secret=secret, body=body)
        return _same(given.lower(), expected)
    fields = form_fields(body)
    if fields is None:
        return False
    if kind == SourceKind.KUAIDI100:
        given = (fields.get("sign") or "").strip().upper()
        return _same(given, kuaidi100_sign(secret=secret, param=fields.get("param") or ""))
    if kind == SourceKind.KDNIAO:
        given = (fields.get("DataSign") or "").strip()
        if "%" in given:
            given = unquote(given)
        return _same(given, kdniao_data_sign(secret=secret, request_data=fields.get("RequestData") or ""))
    return False
