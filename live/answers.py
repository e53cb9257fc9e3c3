"""The answer each sender expects, built from the delivery (processed or not yet).

kuaidi100 reads `{"result": true, "returnCode": "200", "message": "成功"}` (anything else: it pushes
again later); kdniao reads `{"EBusinessID", "UpdateTime", "Success", "Reason"}`; a generic sender
gets the counts and the per-entry errors (202 while a worker still has to process the push).
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .formats import kdniao_business_id
from .models import PushDelivery, SourceKind

JSON_OPTIONS = {"ensure_ascii": False}


def _body_error(delivery: PushDelivery) -> str:
    """The message when the body as a whole could not be read ("" otherwise)."""
    for error in (delivery.outcome or {}).get("errors", []):
        if error.get("entry") is None:
            return error.get("message", "")
    return ""


def _answer(kind: str, delivery: PushDelivery, *, success: bool, reason: str, status: int) -> JsonResponse:
    if kind == SourceKind.KUAIDI100:
        payload = {"result": success, "returnCode": "200" if success else str(status), "message": "成功" if success else reason}
    elif kind == SourceKind.KDNIAO:
        payload = {
            "EBusinessID": kdniao_business_id(delivery.body),
            "UpdateTime": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
            "Success": success,
            "Reason": "" if success else reason,
        }
    else:
        payload = {"delivery": delivery.pk, "processed": delivery.processed_at is not None, **(delivery.outcome or {})}
        payload.pop("failure", None)
        payload.pop("attempts", None)
        if not success:
            payload["message"] = reason
    return JsonResponse(payload, status=status, json_dumps_params=JSON_OPTIONS)


def push_answer(delivery: PushDelivery) -> JsonResponse:
    kind = delivery.source.kind
    if not delivery.verified:
        return _answer(kind, delivery, success=False, reason=_("bad signature"), status=403)
    if delivery.processed_at is None:
        # Stored and queued (or left for a retry after a failure): the sender need not push again.
        return _answer(kind, delivery, success=True, reason="", status=202 if kind == SourceKind.GENERIC else 200)
    unreadable = _body_error(delivery)
    if unreadable:
        return _answer(kind, delivery, success=False, reason=unreadable, status=400)
    return _answer(kind, delivery, success=True, reason="", status=200)


def too_large(kind: str, limit: int) -> JsonResponse:
    reason = _("the body is larger than %(limit)s bytes") % {"limit": limit}
    return _answer(kind, PushDelivery(body=""), success=False, reason=reason, status=413)
