"""The warehouse's forms: a new bag, its weight and size, the scan box, a new handover sheet, a
cancellation reason, a pickup confirmation. Validation is the services'; the forms only show it."""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fulfillment.access import visible_shops
from fulfillment.models import Carrier, Parcel

from . import services
from .models import (
    ConsolidationBag,
    HandoverSheet,
)
from .selectors import (
    bags_available_for_sheet,
    handover_sheet_default_window,
    loose_parcels_available_for_sheet,
)
from .services.scanning import split_scanned_codes
from .services.sheet_scans import SheetScan, handover_sheet_check_scans


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


class CandidateCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that carry their row's shop and carrier, so the page can offer only the candidates of
    the chosen shop and carrier while the clerk changes them (the server filters them too)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        row = getattr(value, "instance", None)
        if row is not None:
            option["attrs"]["data-shop"] = row.shop_id
            option["attrs"]["data-carrier"] = getattr(row, "carrier_id", "") or ""
        return option


class _FirstRows(forms.models.ModelChoiceIterator):
    def __iter__(self):
        queryset = self.queryset
        if not queryset._prefetch_related_lookups:
            queryset = queryset.iterator()
        for count, row in enumerate(queryset):
            if count >= LOOSE_CANDIDATES_SHOWN:
                return
            yield self.choice(row)


LOOSE_CANDIDATES_SHOWN = 200


class LooseParcelChoiceField(forms.ModelMultipleChoiceField):
    """At most LOOSE_CANDIDATES_SHOWN checkboxes (scan or type the others); any candidate is accepted."""

    iterator = _FirstRows

    def label_from_instance(self, obj):
        return _("%(parcel)s · %(shop)s · %(carrier)s · order %(order)s") % {
            "parcel": obj.tracking_no,
            "shop": obj.shop,
            "carrier": obj.carrier.code if obj.carrier else "—",
            "order": obj.order.order_id,
        }


class ScanInput(forms.TextInput):
    """The scanner's box: hidden until the page's script runs (it checks each code as it is scanned,
    so Enter adds instead of submitting); without script the "scanned codes" box takes the scans."""

    template_name = "pickups/widgets/scan.html"

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off", **(attrs or {})})
        self.scans: list = []

    def get_context(self, name, value, attrs):
        context = super().get_context(name, "", attrs)
        context["scans"] = self.scans
        return context


class HandoverSheetCreateForm(forms.ModelForm):
    scan = forms.CharField(
        label=_("Scan"),
        required=False,
        widget=ScanInput(),
        help_text=_("Scan bag labels or loose parcels' tracking numbers: each scan is checked at once."),
    )
    scanned_codes = forms.CharField(
        label=_("Scanned codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off", "class": "pc-codes"}),
        help_text=_("Bag numbers or tracking numbers, one a line; a scanner's Enter starts a new line."),
    )
    bags = BagChoiceField(
        label=_("Sealed bags"),
        queryset=ConsolidationBag.objects.none(),
        required=False,
        widget=CandidateCheckboxes,
        help_text=_("Sealed bags of the shop and pickup provider that are on no other sheet."),
    )
    parcels = LooseParcelChoiceField(
        label=_("Ready loose parcels"),
        queryset=Parcel.objects.none(),
        required=False,
        widget=CandidateCheckboxes,
        help_text=_("Ready-to-ship parcels of the shop and pickup provider in no bag (not for Lazada)."),
    )
    loose_tracking_numbers = forms.CharField(
        label=_("Loose parcels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_("Tracking numbers of parcels handed over without a bag, one a line (not for Lazada)."),
    )

    user = None  # set by the admin: the shops and candidates offered are the ones this user may see

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

    class Media:
        js = ("pickups/js/sheet_scan.js",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shops = visible_shops(self.user)
        self.fields["shop"].queryset = shops
        shop, carrier = self._chosen("shop", shops), self._chosen("carrier", Carrier.objects.all())
        self.fields["bags"].queryset = bags_available_for_sheet(shop=shop, carrier=carrier, shops=shops)
        self.fields["parcels"].queryset = loose_parcels_available_for_sheet(shop=shop, carrier=carrier, shops=shops)
        if not self.fields["bags"].queryset.exists():
            self.fields["bags"].help_text = _("No sealed bag is waiting for a sheet: seal a bag first.")
        if shop is not None and carrier is not None and not self.fields["parcels"].queryset.exists():
            self.fields["parcels"].help_text = _("No ready loose parcel of this shop and pickup provider.")
        self.fields["scan"].widget.attrs["data-check-url"] = reverse("admin:pickups_handoversheet_check_scan")
        if not self.is_bound:
            if shop is None and shops.count() == 1:
                shop = shops.get()
                self.initial.setdefault("shop", shop.pk)
            start, end = handover_sheet_default_window(shop=shop)
            self.initial.setdefault("window_start", start)
            self.initial.setdefault("window_end", end)
        for name in ("pickup_address", "pickup_province", "pickup_city"):
            self.fields[name].required = False
        self.fields["pickup_address"].widget = forms.Textarea(attrs={"rows": 2})
        self.loose_parcels: list[Parcel] = []
        self.scans: list[SheetScan] = []

    def _chosen(self, name, queryset):
        """The shop or carrier typed (bound form) or proposed (`?shop=` on the add page), if valid."""
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        value = getattr(value, "pk", value)
        if not value or not str(value).isdigit():
            return None
        return queryset.filter(pk=value).first()

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop")
        if shop is None:
            return cleaned
        self.scans = handover_sheet_check_scans(
            shop=shop,
            carrier=cleaned.get("carrier"),
            codes=split_scanned_codes(cleaned.get("scanned_codes", "")),
            user=self.user,
        )
        self.fields["scan"].widget.scans = self.scans
        refused = [scan for scan in self.scans if not scan.added and scan.outcome != "duplicate"]
        if refused:  # each scan's line says why; the error only says that the sheet waits for them
            self.add_error(
                "scanned_codes",
                ngettext(
                    "%(count)d scanned code was refused (see its line under Scan): take it out of the box.",
                    "%(count)d scanned codes were refused (see their lines under Scan): take them out of the box.",
                    len(refused),
                )
                % {"count": len(refused)},
            )
        bags = {bag.pk: bag for bag in cleaned.get("bags") or ()}
        bags.update({scan.bag.pk: scan.bag for scan in self.scans if scan.added and scan.bag})
        typed = services.split_tracking_numbers(cleaned.get("loose_tracking_numbers", ""))
        picked = [p.tracking_no for p in cleaned.get("parcels") or ()]
        scanned = [scan.code for scan in self.scans if scan.added and scan.parcel]
        draft = services.handover_sheet_draft(
            shop=shop,
            carrier=cleaned.get("carrier"),
            pickup_address=cleaned.get("pickup_address", ""),
            pickup_province=cleaned.get("pickup_province", ""),
            pickup_city=cleaned.get("pickup_city", ""),
            window_start=cleaned.get("window_start"),
            window_end=cleaned.get("window_end"),
            bags=list(bags.values()),
            loose_tracking_numbers=list(dict.fromkeys(picked + scanned + typed)),
        )
        for name in ("pickup_address", "pickup_province", "pickup_city"):
            cleaned[name] = getattr(draft, name)
            setattr(self.instance, name, cleaned[name])
        cleaned["bags"] = list(bags.values())
        self.loose_parcels = draft.parcels
        if draft.unknown_numbers:
            self.add_error(
                "loose_tracking_numbers",
                _("Unknown tracking numbers: %(numbers)s") % {"numbers": ", ".join(draft.unknown_numbers)},
            )
        if draft.problems:
            raise ValidationError(draft.problems)
        return cleaned

    def _post_clean(self):
        """The model's constraints repeat what `handover_sheet_problems` said (the window ends before it
        starts): each problem is shown once."""
        super()._post_clean()
        for errors in self._errors.values():
            unique = {" ".join(ValidationError(item).messages): item for item in errors.data}
            errors.data[:] = unique.values()


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
