"""What the API reads and answers (DRF serializers); the writes themselves are the apps' services."""

from __future__ import annotations

from rest_framework import serializers

from fulfillment.models import DEADLINE_FIELDS
from pickups.models import ConsolidationBag, HandoverSheet

MILESTONE_FIELDS = (
    "paid_at", "shipped_at", "rts_at", "picked_up_at", "sorting_centre_at", "out_for_delivery_at", "delivered_at",
    "last_event_at", "cancelled_at",
)  # fmt: skip
MAX_NUMBERS = 300  # a bag's limit: one request can fill a bag


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_no = serializers.CharField(source="parcel.tracking_no")
    carrier = serializers.CharField(source="parcel.carrier.code", default=None)
    shop = serializers.CharField(source="parcel.shop.code")
    kind = serializers.CharField()
    level = serializers.CharField()
    due_at = serializers.DateTimeField()
    raised_at = serializers.DateTimeField()
    escalated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField()


class EventSerializer(serializers.Serializer):
    code = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    location = serializers.CharField()
    description = serializers.CharField()
    outlet = serializers.CharField(source="outlet.code", default=None)


class ParcelSerializer(serializers.Serializer):
    tracking_no = serializers.CharField()
    carrier = serializers.CharField(source="carrier.code", default=None)
    shop = serializers.CharField(source="shop.code")
    platform = serializers.CharField()
    order_id = serializers.CharField(source="order.order_id")
    status = serializers.CharField()
    milestones = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    bag = serializers.SerializerMethodField()
    open_alerts = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    def _times(self, parcel, names) -> dict:
        field = serializers.DateTimeField()
        return {name: field.to_representation(getattr(parcel, name)) if getattr(parcel, name) else None for name in names}

    def get_milestones(self, parcel) -> dict:
        return self._times(parcel, MILESTONE_FIELDS)

    def get_deadlines(self, parcel) -> dict:
        return self._times(parcel, DEADLINE_FIELDS)

    def get_bag(self, parcel) -> str | None:
        item = getattr(parcel, "bag_item", None)
        return item.bag.number if item else None

    def get_open_alerts(self, parcel) -> list:
        alerts = parcel.alerts.filter(resolved_at__isnull=True).select_related("parcel__shop", "parcel__carrier")
        return AlertSerializer(alerts.order_by("raised_at", "pk"), many=True).data

    def get_events(self, parcel) -> list:
        events = parcel.events.select_related("outlet").order_by("occurred_at", "pk")
        return EventSerializer(events, many=True).data


class BagSerializer(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.code")
    tracking_numbers = serializers.SerializerMethodField()

    class Meta:
        model = ConsolidationBag
        fields = (
            "number", "shop", "sorting_centre", "status", "gross_weight_kg", "length_cm", "width_cm", "height_cm",
            "created_at", "sealed_at", "picked_up_at", "received_at", "reported_lost_at", "tracking_numbers",
        )  # fmt: skip

    def get_tracking_numbers(self, bag) -> list[str]:
        return list(bag.items.order_by("pk").values_list("parcel__tracking_no", flat=True))


class SheetSerializer(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.code")
    carrier = serializers.CharField(source="carrier.code")
    bags = serializers.SerializerMethodField()
    parcels = serializers.SerializerMethodField()

    class Meta:
        model = HandoverSheet
        fields = (
            "number", "shop", "carrier", "status", "pickup_address", "pickup_province", "pickup_city", "window_start",
            "window_end", "created_at", "booked_at", "cancelled_at", "cancel_reason", "picked_up_at", "pickup_agent",
            "bags", "parcels",
        )  # fmt: skip

    def get_bags(self, sheet) -> list[str]:
        return list(sheet.items.filter(bag__isnull=False).order_by("pk").values_list("bag__number", flat=True))

    def get_parcels(self, sheet) -> list[str]:
        return list(sheet.items.filter(parcel__isnull=False).order_by("pk").values_list("parcel__tracking_no", flat=True))


# ------------------------------------------------------------------------------------------ input


class BagCreateInput(serializers.Serializer):
    shop = serializers.CharField(max_length=64, help_text="shop code")
    sorting_centre = serializers.CharField(max_length=2, help_text="SZ or YW")


class BagParcelsInput(serializers.Serializer):
    tracking_numbers = serializers.ListField(
        child=serializers.CharField(max_length=64), allow_empty=False, max_length=MAX_NUMBERS
    )


class ScanResultAnswer(serializers.Serializer):
    tracking_no = serializers.CharField()
    outcome = serializers.CharField()
    message = serializers.CharField()


class BagScanAnswer(serializers.Serializer):
    number = serializers.CharField()
    added = serializers.IntegerField()
    results = ScanResultAnswer(many=True)


class BagSealInput(serializers.Serializer):
    gross_weight_kg = serializers.DecimalField(max_digits=7, decimal_places=2, required=False)
    length_cm = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    width_cm = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    height_cm = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)


class SheetCreateInput(serializers.Serializer):
    shop = serializers.CharField(max_length=64, help_text="shop code")
    carrier = serializers.CharField(max_length=32, help_text="carrier code: the pickup provider")
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    bags = serializers.ListField(child=serializers.CharField(max_length=32), required=False, max_length=MAX_NUMBERS)
    parcels = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=MAX_NUMBERS)
    pickup_address = serializers.CharField(required=False, max_length=500, help_text="default: the shop's")
    pickup_province = serializers.CharField(required=False, max_length=64)
    pickup_city = serializers.CharField(required=False, max_length=64)


class SheetCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SheetConfirmInput(serializers.Serializer):
    picked_up_at = serializers.DateTimeField()
    agent = serializers.CharField(max_length=200)
