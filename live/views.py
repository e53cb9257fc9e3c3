"""`POST /api/v1/push/<source>/`: store the push, verify it, process it (now, or in a worker) and
answer in the sender's format. Thin: the writes are `live.services`, the answers `live.answers`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .answers import push_answer, too_large
from .models import PushSource
from .services import push_delivery_enqueue, push_delivery_receive


def max_body_bytes() -> int:
    return getattr(settings, "LIVE_PUSH_MAX_BODY_BYTES", 1 << 20)


@csrf_exempt
@require_POST
def push_receive(request, source: str):
    push_source = PushSource.objects.filter(name=source, active=True).first()
    if push_source is None:
        raise Http404("unknown push source")
    limit = max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return too_large(push_source.kind, limit)
    try:
        body = request.body
    except RequestDataTooBig:
        return too_large(push_source.kind, limit)
    if len(body) > limit:
        return too_large(push_source.kind, limit)
    delivery = push_delivery_receive(source=push_source, body=body, headers=request.headers)
    if delivery.verified:
        push_delivery_enqueue(delivery=delivery)
        delivery.refresh_from_db()
    return push_answer(delivery)
