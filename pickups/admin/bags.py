"""Bags in the admin: the scan page, seal, reopen, label, report lost, claim evidence."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import apply_each, messages_of, report_applied
from fulfillment.access import ShopLimitedAdminMixin
from fulfillment.models import Parcel

from .. import services
from ..barcodes import code128_svg
from ..exports import claim_evidence_csv, claim_evidence_xlsx
from ..forms import (
    BagAddForm,
    BagChangeForm,
    LostBagForm,
)
from ..models import (
    BagStatus,
    ConsolidationBag,
)
from ..selectors import (
    bag_parcels,
)
from .bag_scan import BagScanViewsMixin
from .printing import print_format


@admin.register(ConsolidationBag)
class ConsolidationBagAdmin(ShopLimitedAdminMixin, BagScanViewsMixin, admin.ModelAdmin):
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
                    _("Bag %(bag)s was not sealed: %(problems)s") % {"bag": obj.number, "problems": messages_of(error)},
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
            if not self.has_seal_permission(request):
                raise PermissionDenied
            try:
                services.bag_reopen(bag=obj, by=request.user, reason=request.POST.get("reopen_reason", ""))
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

    def has_report_lost_permission(self, request, obj=None):
        """Clerks who seal bags, and managers who claim for them."""
        return request.user.has_perm("pickups.seal_consolidationbag") or self.has_export_claim_evidence_permission(request)

    @admin.action(permissions=["report_lost"], description=_("Report selected bags lost by the carrier"))
    def report_lost(self, request, queryset):
        form = LostBagForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Report bags lost by the carrier"),
                "form": form,
                "selected": queryset.select_related("shop"),
                "action": "report_lost",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "button": _("Report lost"),
            }
            return TemplateResponse(request, "admin/pickups/consolidationbag/lost_form.html", context)
        reason = form.cleaned_data["reason"]
        reported, refused = apply_each(
            queryset.exclude(status=BagStatus.LOST),
            lambda bag: services.bag_report_lost(bag=bag, by=request.user, note=reason),
            label=lambda bag: bag.number,
        )
        already = queryset.filter(status=BagStatus.LOST).count()
        if already:
            refused.append(
                ngettext("%(count)d bag was already reported lost.", "%(count)d bags were already reported lost.", already)
                % {"count": already}
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
        return self.scan_urls() + [
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
        """Through `get_queryset`: a bag of a shop the user may not see is "not found" on every page."""
        bag = get_object_or_404(self.get_queryset(request).select_related("shop"), pk=pk)
        if not self.has_view_permission(request, bag):
            raise PermissionDenied
        return bag

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
        printing = print_format(request)
        # The printable width: 100 mm less the label's 6 mm sides, or its 186 mm on A4 less the same.
        available, height = (Decimal(88), Decimal(26)) if printing["thermal"] else (Decimal(174), Decimal(34))
        context = {
            **self.admin_site.each_context(request),
            **printing,
            "opts": self.opts,
            "title": _("Label of bag %(bag)s") % {"bag": bag.number},
            "bag": bag,
            "barcode": code128_svg(bag.number, available_mm=available, height_mm=height),
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
