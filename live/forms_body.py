"""The fields of a form-encoded push body (`application/x-www-form-urlencoded`), read from the stored
text so that the signature check and every later processing read exactly the same values."""

from __future__ import annotations

from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict


def body_text(body: bytes) -> str:
    """The body as stored: UTF-8, an undecodable byte or a NUL becoming U+FFFD (such a body is no valid
    JSON or form anyway; the signature is checked on the bytes as received)."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")  # PostgreSQL text holds no NUL


def form_fields(body: bytes | str) -> dict[str, str] | None:
    """The last value of each field, or None when the body is not a form."""
    text = body if isinstance(body, str) else body_text(body)
    try:
        query = QueryDict(text, encoding="utf-8")
    except TooManyFieldsSent:
        return None
    return {name: query.get(name, "") for name in query}
