from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from ..authentication import client_of
from ..services import MAX_ORDER_ENTRIES, api_orders_import
from .base import ApiView


class OrderImportAnswer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    read = serializers.IntegerField()
    inserted = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="entry (1-based), field, message")


class OrdersView(ApiView):
    """Rows of `import_orders` (the same fields, one object a parcel), validated and applied exactly as
    the file import does: each entry is applied whole or reported; posting the same rows again is a no-op."""

    required_perms = {"POST": ("fulfillment.add_order",)}

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses=OrderImportAnswer,
        parameters=[OpenApiParameter("dry_run", bool, description="check every entry, write nothing")],
    )
    def post(self, request):
        entries = request.data.get("orders") if isinstance(request.data, dict) else request.data
        if not isinstance(entries, list):
            raise ParseError(_('Expected a JSON array of order rows, or {"orders": [...]}.'))
        if len(entries) > MAX_ORDER_ENTRIES:
            raise ParseError(
                _("%(count)s entries: at most %(max)s a request.") % {"count": len(entries), "max": MAX_ORDER_ENTRIES}
            )
        dry_run = str(request.query_params.get("dry_run", "")).lower() in {"1", "true", "yes"}
        answer = api_orders_import(entries=entries, by=request.user, client=client_of(request), dry_run=dry_run)
        return Response(answer, status=status.HTTP_200_OK)
