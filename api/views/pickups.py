"""Bags and handover sheets through `pickups.services`: the same refusals as the admin."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from fulfillment.access import limit_to_shops, visible_shops
from fulfillment.models import Carrier, Parcel
from pickups import services
from pickups.models import ConsolidationBag, HandoverSheet

from ..serializers import (
    BagCreateInput,
    BagParcelsInput,
    BagScanAnswer,
    BagSealInput,
    BagSerializer,
    SheetCancelInput,
    SheetConfirmInput,
    SheetCreateInput,
    SheetSerializer,
)
from .base import ApiView, get_or_404


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _shop(request, code: str):
    shop = visible_shops(request.user).filter(code=code).first()
    if shop is None:
        raise ValidationError({"shop": _("No shop %(code)s among this client's shops.") % {"code": code}})
    return shop


def _bag(request, number: str) -> ConsolidationBag:
    return get_or_404(limit_to_shops(ConsolidationBag.objects.select_related("shop"), request.user), number=number)


def _sheet(request, number: str) -> HandoverSheet:
    return get_or_404(
        limit_to_shops(HandoverSheet.objects.select_related("shop", "carrier"), request.user), number=number
    )


class BagsView(ApiView):
    required_perms = {"POST": ("pickups.add_consolidationbag",)}

    @extend_schema(request=BagCreateInput, responses={201: BagSerializer})
    def post(self, request):
        data = _valid(BagCreateInput, request)
        bag = services.bag_create(shop=_shop(request, data["shop"]), sorting_centre=data["sorting_centre"], by=request.user)
        return Response(BagSerializer(bag).data, status=status.HTTP_201_CREATED)


class BagView(ApiView):
    @extend_schema(responses=BagSerializer)
    def get(self, request, number: str):
        return Response(BagSerializer(_bag(request, number)).data)


class BagParcelsView(ApiView):
    """Scan parcels into an open bag: one result per number, in the order given."""

    required_perms = {"POST": ("pickups.add_bagitem",)}

    @extend_schema(request=BagParcelsInput, responses=BagScanAnswer)
    def post(self, request, number: str):
        data = _valid(BagParcelsInput, request)
        results = services.bag_add_parcels(bag=_bag(request, number), tracking_numbers=data["tracking_numbers"], by=request.user)
        return Response(
            {
                "number": number,
                "added": sum(r.added for r in results),
                "results": [{"tracking_no": r.tracking_no, "outcome": str(r.outcome), "message": r.message} for r in results],
            }
        )


class BagSealView(ApiView):
    """Record the measured weight and sides (when given), then seal: every failed limit is named."""

    required_perms = {"POST": ("pickups.seal_consolidationbag",)}

    @extend_schema(request=BagSealInput, responses=BagSerializer)
    def post(self, request, number: str):
        data = _valid(BagSealInput, request)
        bag = _bag(request, number)
        if data:
            bag = services.bag_measure(bag=bag, by=request.user, **data)
        return Response(BagSerializer(services.bag_seal(bag=bag, by=request.user)).data)


class SheetsView(ApiView):
    required_perms = {"POST": ("pickups.add_handoversheet",)}

    @extend_schema(request=SheetCreateInput, responses={201: SheetSerializer})
    def post(self, request):
        data = _valid(SheetCreateInput, request)
        shop = _shop(request, data["shop"])
        carrier = Carrier.objects.filter(code=data["carrier"].upper()).first()
        if carrier is None:
            raise ValidationError({"carrier": _("Unknown carrier %(code)s.") % {"code": data["carrier"]}})
        bags = list(limit_to_shops(ConsolidationBag.objects.all(), request.user).filter(number__in=data.get("bags", [])))
        parcels = list(
            limit_to_shops(Parcel.objects.all(), request.user).filter(tracking_no__in=data.get("parcels", []), carrier=carrier)
        )
        unknown = sorted(set(data.get("bags", [])) - {b.number for b in bags}) + sorted(
            set(data.get("parcels", [])) - {p.tracking_no for p in parcels}
        )
        if unknown:
            raise ValidationError({"detail": _("Unknown bags or parcels: %(numbers)s") % {"numbers": ", ".join(unknown)}})
        sheet = services.handover_sheet_create(
            shop=shop,
            carrier=carrier,
            pickup_address=data.get("pickup_address") or shop.pickup_address,
            pickup_province=data.get("pickup_province") or shop.pickup_province,
            pickup_city=data.get("pickup_city") or shop.pickup_city,
            window_start=data["window_start"],
            window_end=data["window_end"],
            bags=bags,
            parcels=parcels,
            by=request.user,
        )
        return Response(SheetSerializer(sheet).data, status=status.HTTP_201_CREATED)


class SheetView(ApiView):
    @extend_schema(responses=SheetSerializer)
    def get(self, request, number: str):
        return Response(SheetSerializer(_sheet(request, number)).data)


class SheetBookView(ApiView):
    required_perms = {"POST": ("pickups.change_handoversheet",)}

    @extend_schema(request=None, responses=SheetSerializer)
    def post(self, request, number: str):
        return Response(SheetSerializer(services.handover_sheet_book(sheet=_sheet(request, number), by=request.user)).data)


class SheetCancelView(ApiView):
    """Cancel a sheet: only until the pickup agent's confirmation is recorded."""

    required_perms = {"POST": ("pickups.cancel_handoversheet",)}

    @extend_schema(request=SheetCancelInput, responses=SheetSerializer)
    def post(self, request, number: str):
        data = _valid(SheetCancelInput, request)
        sheet = services.handover_sheet_cancel(sheet=_sheet(request, number), by=request.user, reason=data["reason"])
        return Response(SheetSerializer(sheet).data)


class SheetConfirmPickupView(ApiView):
    required_perms = {"POST": ("pickups.confirm_pickup_handoversheet",)}

    @extend_schema(request=SheetConfirmInput, responses=SheetSerializer)
    def post(self, request, number: str):
        data = _valid(SheetConfirmInput, request)
        sheet = services.handover_sheet_confirm_pickup(
            sheet=_sheet(request, number), picked_up_at=data["picked_up_at"], agent=data["agent"], by=request.user
        )
        return Response(SheetSerializer(sheet).data)
