"""Admin for the shop-level alerts (unusual order volume) and their threshold.

A shop alert is written by the scan (`monitoring.spikes`); a manager reads it and marks it reviewed
through the service. The threshold is one row of shared reference data that managers edit.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fulfillment.access import ShopLimitedAdminMixin
from monitoring.models import OrderSpikeThreshold, ShopAlert
from monitoring.spikes import shop_alert_review


class ReviewedFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Waiting for review")), ("reviewed", _("Reviewed"))]

    def queryset(self, request, queryset):
        if self.value() in ("open", "reviewed"):
            return queryset.filter(resolved_at__isnull=self.value() == "open")
        return queryset


@admin.register(ShopAlert)
class ShopAlertAdmin(ShopLimitedAdminMixin, admin.ModelAdmin):
    list_display = ("shop", "kind", "day", "orders", "median", "raised_at", "resolved_at", "resolved_by")
    list_filter = (ReviewedFilter, "kind", "shop")
    list_select_related = ("shop", "resolved_by")
    readonly_fields = ("shop", "kind", "day", "orders", "median", "raised_at", "resolved_at", "resolved_by")
    ordering = ("-day", "shop__code")
    actions = ["mark_reviewed"]

    def has_add_permission(self, request):
        return False  # raised by the scan

    def has_delete_permission(self, request, obj=None):
        return False  # reviewed, never deleted

    def has_review_permission(self, request):
        return request.user.has_perm("monitoring.review_shopalert")

    @admin.action(permissions=["review"], description=_("Mark reviewed"))
    def mark_reviewed(self, request, queryset):
        reviewed = sum(shop_alert_review(alert=alert, by=request.user) for alert in queryset)
        skipped = queryset.count() - reviewed
        self.message_user(
            request,
            ngettext("%(n)d alert marked reviewed", "%(n)d alerts marked reviewed", reviewed) % {"n": reviewed}
            + (ngettext("; %(n)d was already reviewed.", "; %(n)d were already reviewed.", skipped) % {"n": skipped}
               if skipped else "."),
        )


@admin.register(OrderSpikeThreshold)
class OrderSpikeThresholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "factor", "min_orders", "baseline_days", "is_active")
    fields = ("factor", "min_orders", "baseline_days", "is_active")

    # One row, seeded by the migration: edited, never added or deleted.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
