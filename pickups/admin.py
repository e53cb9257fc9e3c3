"""The warehouse's screens: bags (scan, seal, label, claim evidence) and handover sheets (book, print,
cancel, confirm pickup). Every write goes through pickups.services; status is never a form field."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import apply_each, messages_of, report_applied
from fulfillment.models import Parcel, Platform

from . import services
from .barcodes import code128_svg
from .exports import claim_evidence_csv, claim_evidence_xlsx
from .models import (
    BAG_MAX_PARCELS,
    BagStatus,
    ConsolidationBag,
    HandoverSheet,
    PickupCoverage,
    SheetStatus,
)
from .selectors import (
    bag_parcels,
    bags_available_for_sheet,
    handover_sheet_contents,
    shop_free_pickup_eligibility,
)

# --------------------------------------------------------------------------- bags


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


@admin.register(ConsolidationBag)
class ConsolidationBagAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "status",
        "shop",
        "sorting_centre",
        "parcel_count",
        "gross_weight_kg",
        "sealed_at",
        "picked_up_at",
        "lost",
    )
    list_filter = ("status", "sorting_centre", "shop")
    list_select_related = ("shop",)
    search_fields = ("=number", "=items__parcel__tracking_no")
    search_help_text = _("A bag number, or the tracking number of a parcel in the bag.")
    actions = ("seal_bags", "report_lost")
    change_form_template = "admin/pickups/consolidationbag/change_form.html"
    readonly_fields = (
        "number",
        "shop",
        "sorting_centre",
        "status",
        "parcel_count",
        "created_at",
        "sealed_at",
        "picked_up_at",
        "received_at",
        "reported_lost_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_parcel_count=Count("items", distinct=True))

    @admin.display(description=_("parcels"), ordering="_parcel_count")
    def parcel_count(self, obj):
        return obj._parcel_count if hasattr(obj, "_parcel_count") else obj.items.count()

    @admin.display(description=_("reported lost"), boolean=True, ordering="reported_lost_at")
    def lost(self, obj):
        return obj.reported_lost_at is not None

    # -- forms ---------------------------------------------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = BagChangeForm if obj is not None else BagAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("shop", "sorting_centre")}),)
        return (
            (None, {"fields": (("number", "status"), ("shop", "sorting_centre"), "parcel_count")}),
            (_("Weight and size"), {"fields": ("gross_weight_kg", ("length_cm", "width_cm", "height_cm"))}),
            (
                _("Dates"),
                {"fields": (("created_at", "sealed_at"), ("picked_up_at", "received_at"), "reported_lost_at")},
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fields = list(self.readonly_fields)
        if obj.status != BagStatus.OPEN:
            fields += ["gross_weight_kg", "length_cm", "width_cm", "height_cm"]
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.status != BagStatus.OPEN or obj.items.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def has_seal_permission(self, request, obj=None):
        return request.user.has_perm("pickups.seal_consolidationbag")

    def has_export_claim_evidence_permission(self, request, obj=None):
        return request.user.has_perm("pickups.export_claim_evidence")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.bag_create(shop=obj.shop, sorting_centre=obj.sorting_centre, by=request.user)
        obj.__dict__.update(created.__dict__)

    def response_add(self, request, obj, post_url_continue=None):
        # A new bag is filled next: go straight to its scanning page.
        if "_addanother" not in request.POST and "_continue" not in request.POST:
            return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_scan", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_seal" in request.POST:
            if not self.has_seal_permission(request, obj):
                raise PermissionDenied
            try:
                services.bag_seal(bag=obj, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request,
                    _("Bag %(bag)s was not sealed: %(problems)s")
                    % {"bag": obj.number, "problems": messages_of(error)},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    format_html(
                        '{} <a href="{}" target="_blank" rel="noopener">{}</a>',
                        _("Bag %(bag)s is sealed.") % {"bag": obj.number},
                        reverse("admin:pickups_consolidationbag_label", args=[obj.pk]),
                        _("Print its label"),
                    ),
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(request.path)
        if "_reopen" in request.POST:
            try:
                services.bag_reopen(bag=obj, by=request.user, reason=_("Reopened in the admin"))
            except ValidationError as error:
                self.message_user(request, messages_of(error), messages.ERROR)
            else:
                self.message_user(request, _("Bag %(bag)s is open again.") % {"bag": obj.number}, messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        bag = self.get_object(request, object_id)
        if bag is not None:
            extra_context.update(
                {
                    "bag": bag,
                    "seal_problems": bag.seal_problems() if bag.status == BagStatus.OPEN else [],
                    "can_seal": bag.status == BagStatus.OPEN and self.has_seal_permission(request),
                    "can_reopen": bag.status == BagStatus.SEALED
                    and self.has_seal_permission(request)
                    and self.has_change_permission(request, bag),
                    "can_export": bag.reported_lost_at is not None
                    and self.has_export_claim_evidence_permission(request),
                    "parcels": bag_parcels(bag=bag)[:500],
                    "title": _("Consolidation bag"),
                    "history": bag.transitions.select_related("by"),
                    "show_save_and_add_another": False,
                    # Only an open bag has something to edit (its weight and size).
                    "show_save": bag.status == BagStatus.OPEN,
                    "show_save_and_continue": bag.status == BagStatus.OPEN,
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # -- actions -------------------------------------------------------------------------------
    @admin.action(permissions=["seal"], description=_("Seal selected bags"))
    def seal_bags(self, request, queryset):
        sealed, refused = apply_each(
            queryset, lambda bag: services.bag_seal(bag=bag, by=request.user), label=lambda bag: bag.number
        )
        self._report(
            request, refused, ngettext("%(count)d bag sealed.", "%(count)d bags sealed.", sealed) % {"count": sealed}
        )

    @admin.action(permissions=["change"], description=_("Report selected bags lost by the carrier"))
    def report_lost(self, request, queryset):
        reported, refused = apply_each(
            queryset, lambda bag: services.bag_report_lost(bag=bag, by=request.user), label=lambda bag: bag.number
        )
        self._report(
            request,
            refused,
            ngettext("%(count)d bag reported lost.", "%(count)d bags reported lost.", reported) % {"count": reported},
        )

    def _report(self, request, refused, done_message):
        report_applied(self, request, refused=refused, done_message=done_message)

    # -- extra pages ---------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/scan/", view(self.scan_view), name="pickups_consolidationbag_scan"),
            path(
                "<int:pk>/remove/<int:parcel_pk>/",
                view(self.remove_parcel_view),
                name="pickups_consolidationbag_remove_parcel",
            ),
            path("<int:pk>/label/", view(self.label_view), name="pickups_consolidationbag_label"),
            path(
                "<int:pk>/claim-evidence.<str:fmt>",
                view(self.claim_evidence_view),
                name="pickups_consolidationbag_claim_evidence",
            ),
        ] + super().get_urls()

    def _bag_or_404(self, request, pk) -> ConsolidationBag:
        bag = get_object_or_404(ConsolidationBag.objects.select_related("shop"), pk=pk)
        if not self.has_view_permission(request, bag):
            raise PermissionDenied
        return bag

    def scan_view(self, request, pk):
        """Scan or paste tracking numbers into an open bag; one result line per number."""
        bag = self._bag_or_404(request, pk)
        can_scan = bag.status == BagStatus.OPEN and request.user.has_perm("pickups.add_bagitem")
        results = []
        form = ScanForm()
        if request.method == "POST":
            if not request.user.has_perm("pickups.add_bagitem"):
                raise PermissionDenied
            form = ScanForm(request.POST)
            if form.is_valid():
                try:
                    results = services.bag_add_parcels(
                        bag=bag,
                        tracking_numbers=services.split_tracking_numbers(form.cleaned_data["tracking_numbers"]),
                        by=request.user,
                    )
                except ValidationError as error:
                    self.message_user(request, messages_of(error), messages.ERROR)
                form = ScanForm()  # empty again, ready for the next scan
        parcels = list(bag_parcels(bag=bag))
        added = sum(1 for r in results if r.added)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Scan parcels into bag %(bag)s") % {"bag": bag.number},
            "bag": bag,
            "form": form,
            "can_scan": can_scan,
            "can_remove": bag.status == BagStatus.OPEN and request.user.has_perm("pickups.delete_bagitem"),
            "results": results,
            "added": added,
            "refused": len(results) - added,
            "parcels": parcels,
            "total_parcel_weight": sum((p.weight_kg or 0 for p in parcels), 0),
            "max_parcels": BAG_MAX_PARCELS,
        }
        return TemplateResponse(request, "admin/pickups/consolidationbag/scan.html", context)

    def remove_parcel_view(self, request, pk, parcel_pk):
        bag = self._bag_or_404(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))
        if not request.user.has_perm("pickups.delete_bagitem"):
            raise PermissionDenied
        parcel = get_object_or_404(Parcel, pk=parcel_pk)
        try:
            services.bag_remove_parcel(bag=bag, parcel=parcel, by=request.user)
        except ValidationError as error:
            self.message_user(request, messages_of(error), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Parcel %(parcel)s was taken out of bag %(bag)s.") % {"parcel": parcel, "bag": bag.number},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_scan", args=[bag.pk]))

    def label_view(self, request, pk):
        bag = self._bag_or_404(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Label of bag %(bag)s") % {"bag": bag.number},
            "bag": bag,
            "barcode": code128_svg(bag.number),
            "parcel_count": bag.items.count(),
        }
        return TemplateResponse(request, "admin/pickups/consolidationbag/label.html", context)

    def claim_evidence_view(self, request, pk, fmt):
        bag = self._bag_or_404(request, pk)
        if not self.has_export_claim_evidence_permission(request):
            raise PermissionDenied
        if bag.reported_lost_at is None:
            self.message_user(
                request,
                _("Claim evidence is exported for bags reported lost only; report bag %(bag)s lost first.")
                % {"bag": bag.number},
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:pickups_consolidationbag_change", args=[bag.pk]))
        stamp = timezone.localtime().strftime("%Y%m%d")
        if fmt == "csv":
            response = HttpResponse(claim_evidence_csv(bag), content_type="text/csv; charset=utf-8")
        elif fmt == "xlsx":
            response = HttpResponse(
                claim_evidence_xlsx(bag),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            return HttpResponse(status=404)
        response["Content-Disposition"] = f'attachment; filename="claim-evidence-{bag.number}-{stamp}.{fmt}"'
        return response


# --------------------------------------------------------------------------- handover sheets


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
        for name in ("pickup_address", "pickup_province", "pickup_city"):
            if not (cleaned.get(name) or "").strip():
                cleaned[name] = getattr(shop, name)
                setattr(self.instance, name, cleaned[name])
        if not cleaned["pickup_address"]:
            self.add_error("pickup_address", _("The shop has no pickup address: enter one."))
        numbers = services.split_tracking_numbers(cleaned.get("loose_tracking_numbers", ""))
        found = {}
        for parcel in Parcel.objects.filter(tracking_no__in=numbers).order_by("pk"):
            if parcel.tracking_no not in found or parcel.shop_id == shop.pk:
                found[parcel.tracking_no] = parcel
        unknown = [n for n in numbers if n not in found]
        if unknown:
            self.add_error(
                "loose_tracking_numbers",
                _("Unknown tracking numbers: %(numbers)s") % {"numbers": ", ".join(unknown)},
            )
        self.loose_parcels = list({p.pk: p for p in found.values()}.values())
        if shop.platform == Platform.LAZADA and numbers:
            self.add_error(
                "loose_tracking_numbers",
                _(
                    "Lazada official pickup takes bagged parcels only: scan these parcels into a consolidation "
                    "bag and seal it, then put the bag on the sheet."
                ),
            )
            return cleaned
        problems = services.handover_sheet_problems(
            shop=shop,
            pickup_province=cleaned.get("pickup_province", ""),
            pickup_city=cleaned.get("pickup_city", ""),
            window_start=cleaned.get("window_start"),
            window_end=cleaned.get("window_end"),
            bags=list(cleaned.get("bags") or ()),
            parcels=self.loose_parcels,
        )
        if problems:
            raise ValidationError(problems)
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True}),
        help_text=_("Required. Shown in the sheet's history."),
    )


class PickupConfirmationForm(forms.Form):
    picked_up_at = forms.SplitDateTimeField(
        label=_("Picked up at"), widget=admin_widgets.AdminSplitDateTime, initial=timezone.now
    )
    agent = forms.CharField(label=_("Pickup agent"), max_length=200, help_text=_("Name or staff number of the agent."))


@admin.register(HandoverSheet)
class HandoverSheetAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "status",
        "shop",
        "carrier",
        "pickup_city",
        "window_start",
        "bag_count",
        "loose_count",
        "picked_up_at",
    )
    list_filter = ("status", "carrier", "shop")
    list_select_related = ("shop", "carrier")
    search_fields = ("=number", "=items__bag__number")
    search_help_text = _("A sheet number, or the number of a bag on it.")
    actions = ("book_sheets", "confirm_pickup", "cancel_sheets")
    change_form_template = "admin/pickups/handoversheet/change_form.html"
    readonly_fields = (
        "number",
        "status",
        "shop",
        "carrier",
        "pickup_address",
        "pickup_province",
        "pickup_city",
        "window_start",
        "window_end",
        "created_at",
        "created_by",
        "booked_at",
        "picked_up_at",
        "pickup_agent",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
    )

    def get_queryset(self, request):
        active = Q(items__active=True) | Q(status=SheetStatus.CANCELLED)
        return (
            super()
            .get_queryset(request)
            .annotate(
                _bag_count=Count("items", filter=active & Q(items__bag__isnull=False)),
                _loose_count=Count("items", filter=active & Q(items__parcel__isnull=False)),
            )
        )

    @admin.display(description=_("bags"), ordering="_bag_count")
    def bag_count(self, obj):
        return obj._bag_count

    @admin.display(description=_("loose parcels"), ordering="_loose_count")
    def loose_count(self, obj):
        return obj._loose_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = HandoverSheetCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": ("shop", "carrier")}),
                (
                    _("Pickup"),
                    {"fields": ("pickup_address", ("pickup_province", "pickup_city"), ("window_start", "window_end"))},
                ),
                (_("Items"), {"fields": ("bags", "loose_tracking_numbers")}),
            )
        fieldsets = [
            (None, {"fields": (("number", "status"), ("shop", "carrier"))}),
            (
                _("Pickup"),
                {"fields": ("pickup_address", ("pickup_province", "pickup_city"), ("window_start", "window_end"))},
            ),
            (_("Progress"), {"fields": (("created_at", "created_by"), "booked_at", ("picked_up_at", "pickup_agent"))}),
        ]
        if obj.status == SheetStatus.CANCELLED:
            fieldsets.append((_("Cancellation"), {"fields": (("cancelled_at", "cancelled_by"), "cancel_reason")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ("status",)

    def has_delete_permission(self, request, obj=None):
        return False  # a sheet is a record of a handover: cancel it, never delete it

    def has_cancel_permission(self, request, obj=None):
        return request.user.has_perm("pickups.cancel_handoversheet")

    def has_confirm_pickup_permission(self, request, obj=None):
        return request.user.has_perm("pickups.confirm_pickup_handoversheet")

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on a saved sheet is edited through the form; transitions are buttons
        created = services.handover_sheet_create(
            shop=obj.shop,
            carrier=obj.carrier,
            pickup_address=form.cleaned_data["pickup_address"],
            pickup_province=form.cleaned_data["pickup_province"],
            pickup_city=form.cleaned_data["pickup_city"],
            window_start=obj.window_start,
            window_end=obj.window_end,
            bags=list(form.cleaned_data.get("bags") or ()),
            parcels=form.loose_parcels,
            by=request.user,
        )
        obj.__dict__.update(created.__dict__)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {
            "title": _("New handover sheet"),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return super().add_view(request, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(reverse("admin:pickups_handoversheet_change", args=[obj.pk]))

    def response_change(self, request, obj):
        if "_book" in request.POST:
            try:
                services.handover_sheet_book(sheet=obj, by=request.user)
            except ValidationError as error:
                self.message_user(request, messages_of(error), messages.ERROR)
            else:
                self.message_user(request, _("Handover sheet %(sheet)s is booked.") % {"sheet": obj.number})
        return HttpResponseRedirect(request.path)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        sheet = self.get_object(request, object_id)
        if sheet is not None:
            open_sheet = sheet.status in (SheetStatus.DRAFT, SheetStatus.BOOKED)
            extra_context.update(
                {
                    "sheet": sheet,
                    "contents": handover_sheet_contents(sheet=sheet),
                    "eligibility": shop_free_pickup_eligibility(shop=sheet.shop),
                    "title": _("Handover sheet"),
                    "history": sheet.transitions.select_related("by"),
                    "can_book": sheet.status == SheetStatus.DRAFT and self.has_change_permission(request, sheet),
                    "can_cancel": open_sheet and self.has_cancel_permission(request),
                    "can_confirm": sheet.status == SheetStatus.BOOKED and self.has_confirm_pickup_permission(request),
                    "show_save": False,
                    "show_save_and_continue": False,
                    "show_save_and_add_another": False,
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # -- actions -------------------------------------------------------------------------------
    def _report(self, request, refused, done_message):
        report_applied(self, request, refused=refused, done_message=done_message)

    @admin.action(permissions=["change"], description=_("Book pickup of selected sheets"))
    def book_sheets(self, request, queryset):
        done, refused = apply_each(queryset, lambda sheet: services.handover_sheet_book(sheet=sheet, by=request.user))
        self._report(
            request, refused, ngettext("%(count)d sheet booked.", "%(count)d sheets booked.", done) % {"count": done}
        )

    def _action_form_response(self, request, queryset, form, action, title, button):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "sheets": queryset.select_related("shop", "carrier"),
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "button": button,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/pickups/handoversheet/sheet_form.html", context)

    @admin.action(permissions=["cancel"], description=_("Cancel selected sheets (before pickup)"))
    def cancel_sheets(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._action_form_response(
                request, queryset, form, "cancel_sheets", _("Cancel handover sheets"), _("Cancel the sheets")
            )
        done, refused = apply_each(
            queryset,
            lambda sheet: services.handover_sheet_cancel(sheet=sheet, by=request.user, reason=form.cleaned_data["reason"]),
        )
        self._report(
            request,
            refused,
            ngettext("%(count)d sheet cancelled.", "%(count)d sheets cancelled.", done) % {"count": done},
        )
        return None

    @admin.action(permissions=["confirm_pickup"], description=_("Record pickup of selected sheets"))
    def confirm_pickup(self, request, queryset):
        form = PickupConfirmationForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._action_form_response(
                request,
                queryset,
                form,
                "confirm_pickup",
                _("Record the pickup agent's confirmation"),
                _("Record pickup"),
            )
        done, refused = apply_each(
            queryset,
            lambda sheet: services.handover_sheet_confirm_pickup(
                sheet=sheet,
                picked_up_at=form.cleaned_data["picked_up_at"],
                agent=form.cleaned_data["agent"],
                by=request.user,
            ),
        )
        self._report(
            request,
            refused,
            ngettext("%(count)d sheet recorded as picked up.", "%(count)d sheets recorded as picked up.", done)
            % {"count": done},
        )
        return None

    # -- extra pages ---------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/print/", view(self.print_view), name="pickups_handoversheet_print"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="pickups_handoversheet_cancel"),
            path(
                "<int:pk>/confirm-pickup/", view(self.confirm_pickup_view), name="pickups_handoversheet_confirm_pickup"
            ),
        ] + super().get_urls()

    def _sheet_or_404(self, request, pk) -> HandoverSheet:
        sheet = get_object_or_404(HandoverSheet.objects.select_related("shop", "carrier"), pk=pk)
        if not self.has_view_permission(request, sheet):
            raise PermissionDenied
        return sheet

    def print_view(self, request, pk):
        sheet = self._sheet_or_404(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Handover sheet %(sheet)s") % {"sheet": sheet.number},
            "sheet": sheet,
            "contents": handover_sheet_contents(sheet=sheet),
            "barcode": code128_svg(sheet.number),
            "printed_at": timezone.localtime(),
        }
        return TemplateResponse(request, "admin/pickups/handoversheet/print.html", context)

    def _single_form_page(self, request, sheet, form, title, button):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "sheets": [sheet],
            "sheet": sheet,
            "button": button,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/pickups/handoversheet/sheet_form.html", context)

    def cancel_view(self, request, pk):
        sheet = self._sheet_or_404(request, pk)
        if not self.has_cancel_permission(request, sheet):
            raise PermissionDenied
        change_url = reverse("admin:pickups_handoversheet_change", args=[sheet.pk])
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.handover_sheet_cancel(sheet=sheet, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                self.message_user(request, messages_of(error), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Handover sheet %(sheet)s is cancelled; its bags and parcels are free for another sheet.")
                    % {"sheet": sheet.number},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        if sheet.status not in (SheetStatus.DRAFT, SheetStatus.BOOKED):
            self.message_user(request, messages_of(services.transition_refused(sheet, _("cancelled"))), messages.ERROR)
            return HttpResponseRedirect(change_url)
        return self._single_form_page(
            request, sheet, form, _("Cancel handover sheet %(sheet)s") % {"sheet": sheet.number}, _("Cancel the sheet")
        )

    def confirm_pickup_view(self, request, pk):
        sheet = self._sheet_or_404(request, pk)
        if not self.has_confirm_pickup_permission(request, sheet):
            raise PermissionDenied
        change_url = reverse("admin:pickups_handoversheet_change", args=[sheet.pk])
        form = PickupConfirmationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.handover_sheet_confirm_pickup(
                    sheet=sheet,
                    picked_up_at=form.cleaned_data["picked_up_at"],
                    agent=form.cleaned_data["agent"],
                    by=request.user,
                )
            except ValidationError as error:
                self.message_user(request, messages_of(error), messages.ERROR)
            else:
                self.message_user(
                    request, _("Pickup of handover sheet %(sheet)s is recorded.") % {"sheet": sheet.number}
                )
            return HttpResponseRedirect(change_url)
        return self._single_form_page(
            request,
            sheet,
            form,
            _("Record the pickup of handover sheet %(sheet)s") % {"sheet": sheet.number},
            _("Record pickup"),
        )


@admin.register(PickupCoverage)
class PickupCoverageAdmin(admin.ModelAdmin):
    list_display = ("province", "city_or_whole")
    list_filter = ("province",)
    search_fields = ("^province", "^city")

    @admin.display(description=_("city"), ordering="city")
    def city_or_whole(self, obj):
        return obj.city or format_html("<em>{}</em>", _("whole province"))
