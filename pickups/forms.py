"""The warehouse's forms: a new bag, its weight and size, the scan box, a new handover sheet, a
cancellation reason, a pickup confirmation. Validation is the services'; the forms only show it."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Parcel

from . import services
from .models import (
    ConsolidationBag,
    HandoverSheet,
)
from .selectors import (
    bags_available_for_sheet,
)


class BagAddForm(forms.ModelForm):
    class Meta:
        model = ConsolidationBag
        fields = ("shop", "sorting_centre")


class BagChangeForm(forms.ModelForm):
    class Meta:
        model = ConsolidationBag
        fields = ("gross_weight_kg", "length_cm", "width_cm", "height_cm")


class ScanForm(forms.Form):
    tracking_numbers = forms.CharField(
        label=_("Tracking numbers"),
        help_text=_("Scan parcels one after another (the scanner presses Enter), or paste many numbers, one a line."),
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True, "autocomplete": "off", "spellcheck": "false"}),
    )


class BagChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        weight = f"{obj.gross_weight_kg} kg" if obj.gross_weight_kg is not None else "—"
        return _("%(bag)s · %(shop)s · to %(centre)s · %(count)d parcels · %(weight)s") % {
            "bag": obj.number,
            "shop": obj.shop,
            "centre": obj.get_sorting_centre_display(),
            "count": obj.parcel_count,
            "weight": weight,
        }


class HandoverSheetCreateForm(forms.ModelForm):
    bags = BagChoiceField(
        label=_("Sealed bags"),
        queryset=ConsolidationBag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Sealed bags that are on no other sheet."),
    )
    loose_tracking_numbers = forms.CharField(
        label=_("Loose parcels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_("Tracking numbers of parcels handed over without a bag, one a line (not for Lazada)."),
    )

    class Meta:
        model = HandoverSheet
        fields = (
            "shop",
            "carrier",
            "pickup_address",
            "pickup_province",
            "pickup_city",
            "window_start",
            "window_end",
        )
        help_texts = {
            "pickup_address": _("Leave the address, province and city empty to use the shop's pickup address."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bags"].queryset = bags_available_for_sheet()
        if not self.fields["bags"].queryset.exists():
            self.fields["bags"].help_text = _("No sealed bag is waiting for a sheet: seal a bag first.")
        if not self.is_bound:
            # The next full hour, for two hours: what a clerk books most of the time.
            start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
            self.initial.setdefault("window_start", start)
            self.initial.setdefault("window_end", start + datetime.timedelta(hours=2))
        for name in ("pickup_address", "pickup_province", "pickup_city"):
            self.fields[name].required = False
        self.fields["pickup_address"].widget = forms.Textarea(attrs={"rows": 2})
        self.loose_parcels: list[Parcel] = []

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop")
        if shop is None:
            return cleaned
        draft = services.handover_sheet_draft(
            shop=shop,
            carrier=cleaned.get("carrier"),
            pickup_address=cleaned.get("pickup_address", ""),
            pickup_province=cleaned.get("pickup_province", ""),
            pickup_city=cleaned.get("pickup_city", ""),
            window_start=cleaned.get("window_start"),
            window_end=cleaned.get("window_end"),
            bags=list(cleaned.get("bags") or ()),
            loose_tracking_numbers=services.split_tracking_numbers(cleaned.get("loose_tracking_numbers", "")),
        )
        for name in ("pickup_address", "pickup_province", "pickup_city"):
            cleaned[name] = getattr(draft, name)
            setattr(self.instance, name, cleaned[name])
        self.loose_parcels = draft.parcels
        if draft.unknown_numbers:
            self.add_error(
                "loose_tracking_numbers",
                _("Unknown tracking numbers: %(numbers)s") % {"numbers": ", ".join(draft.unknown_numbers)},
            )
        if draft.problems:
            raise ValidationError(draft.problems)
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True}),
        help_text=_("Required. Shown in the sheet's history."),
    )


class LostBagForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the bag lost?"),
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True}),
        help_text=_("Required: what the carrier said, and when. Shown in the bag's history and its claim."),
    )


class PickupConfirmationForm(forms.Form):
    picked_up_at = forms.SplitDateTimeField(
        label=_("Picked up at"), widget=admin_widgets.AdminSplitDateTime, initial=timezone.now
    )
    agent = forms.CharField(label=_("Pickup agent"), max_length=200, help_text=_("Name or staff number of the agent."))
