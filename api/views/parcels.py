from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from fulfillment.access import limit_to_shops
from fulfillment.models import Parcel
from monitoring.models import Alert

from ..serializers import AlertSerializer, ParcelSerializer
from .base import ApiView, get_or_404


class ParcelView(ApiView):
    """A parcel's status, milestones, deadlines, bag, open alerts and tracking events."""

    @extend_schema(responses=ParcelSerializer)
    def get(self, request, carrier: str, tracking_no: str):
        parcels = limit_to_shops(Parcel.objects.select_related("carrier", "shop", "order", "bag_item__bag"), request.user)
        parcel = get_or_404(parcels, carrier__code=carrier.upper(), tracking_no=tracking_no.strip().upper())
        return Response(ParcelSerializer(parcel).data)


class AlertCursor(CursorPagination):
    ordering = "pk"
    page_size = 200
    page_size_query_param = "limit"
    max_page_size = 1000


class AlertsView(ApiView):
    """Alerts raised or upgraded since an instant (`since`, ISO 8601), oldest first, page by page (`next`)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("open", bool, description="only unresolved alerts (default true)"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="raised or upgraded at or after"),
        ],
        responses=AlertSerializer(many=True),
    )
    def get(self, request):
        alerts = limit_to_shops(Alert.objects.select_related("parcel__shop", "parcel__carrier"), request.user)
        if str(request.query_params.get("open", "true")).lower() not in {"0", "false", "no"}:
            alerts = alerts.filter(resolved_at__isnull=True)
        since = request.query_params.get("since")
        if since:
            try:
                moment = serializers.DateTimeField().to_internal_value(since)
            except ValidationError:
                raise ValidationError({"since": _("Not an ISO 8601 date and time: %(value)s") % {"value": since[:40]}}) from None
            alerts = alerts.filter(raised_at__gte=moment) | alerts.filter(escalated_at__gte=moment)
        paginator = AlertCursor()
        page = paginator.paginate_queryset(alerts, request, view=self)
        return paginator.get_paginated_response(AlertSerializer(page, many=True).data)
