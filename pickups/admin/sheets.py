"""Handover sheets in the admin: create, book, print, cancel (before pickup), record the pickup."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ShopTimeZoneMixin, apply_each, messages_of, report_applied
from core.errors import TransitionNotAllowed
from core.timezones import shop_zone
from fulfillment.access import ShopLimitedAdminMixin, visible_shops
from fulfillment.models import Carrier

from .. import services
from ..barcodes import code128_svg
from ..forms import (
    HandoverSheetCreateForm,
    PickupConfirmationForm,
    ReasonForm,
)
from ..models import (
    HandoverSheet,
    SheetStatus,
)
from ..selectors import (
    handover_sheet_contents,
    shop_free_pickup_eligibility,
)
from ..services.scanning import normalize_tracking_number, split_scanned_codes
from ..services.sheet_scans import handover_sheet_check_scans
from .printing import print_format


@admin.register(HandoverSheet)
class HandoverSheetAdmin(ShopLimitedAdminMixin, ShopTimeZoneMixin, admin.ModelAdmin):
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
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a class made for this request: shops and candidates are the user's
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": ("shop", "carrier")}),
                (
                    _("Pickup"),
                    {"fields": ("pickup_address", ("pickup_province", "pickup_city"), ("window_start", "window_end"))},
                ),
                (_("Items"), {"fields": ("scan", "scanned_codes", "bags", "parcels", "loose_tracking_numbers")}),
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
        # The pickup window is typed and shown in the shop's time zone, as on the sheet's own page.
        with timezone.override(self._chosen_shop_zone(request)):
            response = super().add_view(request, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def _chosen_shop_zone(self, request):
        """The zone of the shop chosen on the form (or proposed by `?shop=`), else of the only shop the
        user may see, else the site's."""
        shops = visible_shops(request.user)
        chosen = request.POST.get("shop") or request.GET.get("shop") or ""
        shop = shops.filter(pk=chosen).first() if chosen.isdigit() else None
        if shop is None and shops[:2].count() == 1:
            shop = shops.get()
        return shop_zone(shop.timezone if shop is not None else settings.TIME_ZONE)

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

    def _object_or_404(self, request, object_id) -> HandoverSheet:
        """Not found, rather than the admin's redirect to the index, for a sheet of another shop too."""
        sheet = self.get_object(request, object_id)
        if sheet is None:
            raise Http404(_("No such handover sheet."))
        return sheet

    def history_view(self, request, object_id, extra_context=None):
        self._object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        sheet = self._object_or_404(request, object_id)
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
            "selected": queryset.select_related("shop", "carrier"),
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
            lambda sheet: services.handover_sheet_cancel(
                sheet=sheet, by=request.user, reason=form.cleaned_data["reason"]
            ),
        )
        if refused and not done:  # nothing happened: show why on the form, with what was typed
            form.add_error(None, refused)
            return self._action_form_response(
                request, queryset, form, "cancel_sheets", _("Cancel handover sheets"), _("Cancel the sheets")
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
        if refused and not done:  # nothing happened: show why on the form, with what was typed
            form.add_error(None, refused)
            return self._action_form_response(
                request,
                queryset,
                form,
                "confirm_pickup",
                _("Record the pickup agent's confirmation"),
                _("Record pickup"),
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
            path("check-scan/", view(self.check_scan_view), name="pickups_handoversheet_check_scan"),
        ] + super().get_urls()

    def _sheet_or_404(self, request, pk) -> HandoverSheet:
        """The sheet, through `get_queryset`: a sheet of a shop the user may not see is not found."""
        sheet = get_object_or_404(self.get_queryset(request).select_related("shop", "carrier"), pk=pk)
        if not self.has_view_permission(request, sheet):
            raise PermissionDenied
        return sheet

    def check_scan_view(self, request):
        """The verdict on one scanned code for the sheet being built (the sheet form's scanner)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        shop_id, carrier_id = request.GET.get("shop", ""), request.GET.get("carrier", "")
        shop = visible_shops(request.user).filter(pk=shop_id).first() if shop_id.isdigit() else None
        carrier = Carrier.objects.filter(pk=carrier_id).first() if carrier_id.isdigit() else None
        code = normalize_tracking_number(request.GET.get("code", ""))
        if not code:
            return JsonResponse({"error": str(_("Nothing was scanned."))}, status=400)
        earlier = set(split_scanned_codes(request.GET.get("scanned", "")))
        codes = [code, code] if code in earlier else [code]  # scanned before: the second verdict says so
        verdict = handover_sheet_check_scans(shop=shop, carrier=carrier, codes=codes, user=request.user)[-1]
        return JsonResponse(verdict.as_json())

    def print_view(self, request, pk):
        sheet = self._sheet_or_404(request, pk)
        printing = print_format(request)
        available, height = (Decimal(84), Decimal(16)) if printing["thermal"] else (Decimal(78), Decimal(18))
        context = {
            **self.admin_site.each_context(request),
            **printing,
            "opts": self.opts,
            "title": _("Handover sheet %(sheet)s") % {"sheet": sheet.number},
            "sheet": sheet,
            "contents": handover_sheet_contents(sheet=sheet),
            "barcode": code128_svg(sheet.number, available_mm=available, height_mm=height),
        }
        with timezone.override(shop_zone(sheet.shop.timezone)):  # the agent reads the shop's local times
            context["printed_at"] = timezone.localtime()
            return TemplateResponse(request, "admin/pickups/handoversheet/print.html", context).render()

    def _single_form_page(self, request, sheet, form, title, button):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "selected": [sheet],
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
            except TransitionNotAllowed as error:  # the sheet cannot be picked up: nothing to retype
                self.message_user(request, messages_of(error), messages.ERROR)
                return HttpResponseRedirect(change_url)
            except ValidationError as error:
                form.add_error("picked_up_at", error.messages)  # a refused time keeps what was typed, once
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
