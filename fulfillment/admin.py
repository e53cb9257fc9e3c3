"""Admin for the shared schema.

Orders, parcels and tracking events come from the imports and their milestones, status and deadlines
are derived (DESIGN.md, "The parcel's life"): the admin shows them read-only and changes them only
through `fulfillment.services`. Parcels and events are the big tables: exact or prefix search on
indexed columns, no full count, no date hierarchy.
"""

import datetime

from django.contrib import admin
from django.db import models, transaction
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import BigTableAdmin, EditedFieldsOnlyMixin, ShopTimeZoneMixin, in_shop_time, report_applied
from fulfillment.access import ShopLimitedAdminMixin, is_limited
from fulfillment.models import (
    WAREHOUSE_MILESTONES,
    Carrier,
    CarrierOutlet,
    EventArchive,
    Holiday,
    ImportRun,
    Order,
    Parcel,
    Region,
    Shop,
    TrackingEvent,
)
from fulfillment.parcel_state import rederive
from fulfillment.retention import archives_for
from fulfillment.whereabouts import parcel_whereabouts

EVENTS_SHOWN = 50
MAX_SKIPS_LISTED = 20  # a message line, not a report: the first ones with their reasons


class PaidWithinFilter(admin.SimpleListFilter):
    """A range filter on the indexed `paid_at` (a date hierarchy would scan the table for its years)."""

    title = _("paid")
    parameter_name = "paid_within"
    periods = {"1": 1, "2": 2, "7": 7, "30": 30}

    def lookups(self, request, model_admin):
        return [
            ("1", _("Last 24 hours")),
            ("2", _("Last 48 hours")),
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("older", _("More than 30 days ago")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        now = timezone.now()
        if value in self.periods:
            return queryset.filter(paid_at__gte=now - datetime.timedelta(days=self.periods[value]))
        if value == "older":
            return queryset.filter(paid_at__lt=now - datetime.timedelta(days=30))
        return queryset


@admin.register(Shop)
class ShopAdmin(ShopLimitedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "platform", "seller_tier", "timezone", "pickup_province", "pickup_city")
    list_filter = ("platform", "seller_tier")
    search_fields = ("^code", "name")
    readonly_fields = ("created_at",)
    filter_horizontal = ("members",)

    def get_readonly_fields(self, request, obj=None):
        # A user limited to shops cannot widen or narrow anybody's access, their own included.
        if is_limited(request.user):
            return (*self.readonly_fields, "members")
        return self.readonly_fields


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("^code", "name")


@admin.register(CarrierOutlet)
class CarrierOutletAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "carrier", "province", "city", "star_rating", "rating_month", "contact_name",
                    "contact_phone", "robot_kind")  # fmt: skip
    list_select_related = ("carrier",)
    list_filter = ("carrier", "star_rating", "province", "robot_kind")
    search_fields = ("^code", "name", "^city")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("carrier", "code", "name", "province", "city", "star_rating", "rating_month")}),
        (
            _("Contact"),
            {
                "fields": ("contact_name", "contact_phone", "robot_kind", "robot_url", "robot_secret", "contact_email"),
                "description": _(
                    "Whom the outlet's own stalled and overdue parcels are sent to from the outlet scorecard: "
                    "the IM robot if there is one, else the email addresses."
                ),
            },
        ),
    )


class OrderParcelInline(admin.TabularInline):
    model = Parcel
    fields = ("tracking_no", "carrier", "status", "shipped_at", "picked_up_at", "delivered_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("carrier")


@admin.register(Order)
class OrderAdmin(ShopLimitedAdminMixin, EditedFieldsOnlyMixin, ShopTimeZoneMixin, BigTableAdmin):
    list_display = ("order_id", "shop", "platform", "seller_tier", "paid_at_in_shop_time", "amount", "destination")
    list_select_related = ("shop",)
    list_filter = ("platform", "seller_tier", "shop", PaidWithinFilter)
    search_fields = ("=order_id", "^order_id")
    search_help_text = _("Order id, exact or its beginning.")
    exact_search_fields = ("order_id",)
    prefix_search_fields = ("order_id",)
    ordering = ("-paid_at",)
    # The import owns the identity and the payment time; the rest may be corrected by hand.
    readonly_fields = ("shop", "platform", "seller_tier", "order_id", "paid_at", "created_at")
    fields = (
        ("shop", "platform", "seller_tier"),
        ("order_id", "paid_at", "amount"),
        "origin_province",
        ("dest_province", "dest_city"),
        "created_at",
    )
    inlines = [OrderParcelInline]

    @admin.display(description=_("paid at"), ordering="paid_at")
    def paid_at_in_shop_time(self, order):
        return in_shop_time(order.paid_at, order.shop)

    @admin.display(description=_("destination"), ordering="dest_province")
    def destination(self, order):
        if order.dest_city and order.dest_city != order.dest_province:
            return f"{order.dest_province} {order.dest_city}"
        return order.dest_province

    def has_add_permission(self, request):
        # Orders come from `import_orders`, which also creates their parcels and deadlines.
        return False

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            # The destination and the amount feed the deadlines and the compensation estimates.
            rederive(parcel_ids=obj.parcels.values_list("pk", flat=True), reason="order_edited")


class LatestEventsFormSet(BaseInlineFormSet):
    """Only the newest events: a parcel stuck in a loop can have hundreds."""

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[:EVENTS_SHOWN]
        return self._latest


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    formset = LatestEventsFormSet
    fields = ("occurred_at", "code", "location", "description", "outlet")
    readonly_fields = fields
    ordering = ("-occurred_at", "-pk")
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("tracking events (newest first, at most 50)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("outlet__carrier")


MILESTONE_FIELDS = (
    "paid_at",
    "shipped_at",
    "rts_at",
    "picked_up_at",
    "sorting_centre_at",
    "out_for_delivery_at",
    "delivered_at",
    "last_event_at",
    "cancelled_at",
)
# The warehouse part of the timeline, in the order the warehouse works.
WAREHOUSE_FIELDS = (("accepted_at", "printed_at"), ("picked_at", "packed_at"), "ship_risk_at")
DEADLINE_FIELDS = (
    "ship_due_at",
    ("pickup_warn_at", "pickup_due_at"),
    ("update_warn_at", "update_due_at"),
    "sorting_due_at",
    "delivery_due_at",
    "route_due_at",
    ("stagnation_warn_at", "stagnation_due_at"),
)


def _flat(fields):
    for field in fields:
        yield from field if isinstance(field, tuple) else (field,)


@admin.register(Parcel)
class ParcelAdmin(ShopLimitedAdminMixin, EditedFieldsOnlyMixin, ShopTimeZoneMixin, BigTableAdmin):
    list_display = (
        "tracking_no_or_untracked",
        "order_link",
        "shop",
        "carrier",
        "status",
        "paid_at_in_shop_time",
        "picked_up_at_in_shop_time",
        "last_event_at_in_shop_time",
    )
    list_display_links = ("tracking_no_or_untracked",)
    list_select_related = ("order", "shop", "carrier")
    list_filter = ("status", "platform", "shop", "carrier", PaidWithinFilter)
    search_fields = ("=tracking_no", "^tracking_no", "=order__order_id")
    search_help_text = _(
        "Tracking number (exact or its beginning) or order id; paste several separated by spaces to find them all."
    )
    exact_search_fields = ("tracking_no", "order__order_id")
    prefix_search_fields = ("tracking_no",)
    ordering = ("-paid_at",)
    inlines = [TrackingEventInline]
    actions = ["mark_ready_to_ship"]
    # Status, milestones and deadlines are derived from events, the handover workflow and the SLA
    # policies; the identity comes from the import. Only the physical facts are corrected by hand.
    editable_fields = ("weight_kg", "declared_value")

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {
                    "fields": (
                        ("order_link", "shop", "platform"),
                        ("carrier", "outlet", "tracking_no"),
                        ("status", "shop_time_zone"),
                        "whereabouts",
                        ("weight_kg", "declared_value"),
                    )
                },
            ),
            (
                _("Milestones"),
                {"fields": MILESTONE_FIELDS, "description": _("Times are shown in the shop's time zone.")},
            ),
        ]
        if obj is not None and any(getattr(obj, name) for name in WAREHOUSE_MILESTONES):
            fieldsets.append(
                (
                    _("In the warehouse"),
                    {
                        "fields": WAREHOUSE_FIELDS,
                        "description": _(
                            "The warehouse's own nodes, earliest of each, in the shop's time zone. They are not "
                            "carrier updates: they stop no update or stagnation clock."
                        ),
                    },
                )
            )
        fieldsets.append((_("Deadlines"), {"fields": DEADLINE_FIELDS}))
        fieldsets += self.extra_fieldsets(request, obj)
        fieldsets.append(
            (_("Record"), {"fields": (("event_count", "created_at", "updated_at"), "archived_events"), "classes": ["collapse"]})
        )
        return fieldsets

    def extra_fieldsets(self, request, obj) -> list:
        """Sections that apps above fulfillment add to the parcel's page (monitoring: its alerts)."""
        return []

    def get_readonly_fields(self, request, obj=None):
        shown = {f for _name, opts in self.get_fieldsets(request, obj) for f in _flat(opts["fields"])}
        return tuple(sorted(shown - set(self.editable_fields)))

    def has_add_permission(self, request):
        # Parcels come from `import_orders`; a parcel typed here would have no deadlines.
        return False

    def has_mark_ready_permission(self, request):
        return request.user.has_perm("fulfillment.mark_ready_to_ship_parcel")

    @admin.display(description=_("tracking number"), ordering="tracking_no")
    def tracking_no_or_untracked(self, parcel):
        return parcel.tracking_no or gettext("(untracked #%(pk)s)") % {"pk": parcel.pk}

    @admin.display(description=_("order"), ordering="order__order_id")
    def order_link(self, parcel):
        url = reverse("admin:fulfillment_order_change", args=[parcel.order_id])
        return format_html('<a href="{}">{}</a>', url, parcel.order.order_id)

    @admin.display(description=_("time zone"))
    def shop_time_zone(self, parcel):
        return parcel.shop.timezone

    @admin.display(description=_("where it is"))
    @admin.display(description=_("archived events"))
    def archived_events(self, parcel):
        """The months of this parcel's life whose events were exported and removed (fulfillment.retention)."""
        archives = archives_for(parcel)
        if not archives:
            return "—"
        return format_html_join(
            ", ",
            "{} ({} → {})",
            ((f"{a.month:%Y-%m}", in_shop_time(a.archived_at, parcel.shop), a.path) for a in archives),
        )

    @admin.display(description=_("where it is"))
    def whereabouts(self, parcel):
        """Its bag, handover sheet and pickup, told by the apps that keep them (fulfillment.whereabouts)."""
        return parcel_whereabouts(parcel)

    @admin.display(description=_("paid at"), ordering="paid_at")
    def paid_at_in_shop_time(self, parcel):
        return in_shop_time(parcel.paid_at, parcel.shop)

    @admin.display(description=_("picked up at"), ordering="picked_up_at")
    def picked_up_at_in_shop_time(self, parcel):
        return in_shop_time(parcel.picked_up_at, parcel.shop)

    @admin.display(description=_("last valid node at"), ordering="last_event_at")
    def last_event_at_in_shop_time(self, parcel):
        return in_shop_time(parcel.last_event_at, parcel.shop)

    @admin.display(description=_("tracking events"))
    def event_count(self, parcel):
        return parcel.events.count()

    @admin.action(permissions=["mark_ready"], description=_("Mark ready to ship"))
    def mark_ready_to_ship(self, request, queryset):
        from fulfillment.services import parcels_mark_ready_to_ship

        result = parcels_mark_ready_to_ship(parcels=queryset, at=timezone.now(), by=request.user)
        marked = len(result.marked)
        report_applied(
            self,
            request,
            refused=[f"{parcel}: {why}" for parcel, why in result.skipped[:MAX_SKIPS_LISTED]]
            + ([f"… (+{len(result.skipped) - MAX_SKIPS_LISTED})"] if len(result.skipped) > MAX_SKIPS_LISTED else []),
            done_message=ngettext(
                "%(count)d parcel marked ready to ship.",
                "%(count)d parcels marked ready to ship.",
                marked,
            )
            % {"count": marked},
            done=marked,
        )


@admin.register(TrackingEvent)
class TrackingEventAdmin(ShopLimitedAdminMixin, ShopTimeZoneMixin, BigTableAdmin):
    list_display = ("parcel", "code", "occurred_at_in_shop_time", "location", "outlet")
    list_select_related = ("parcel", "parcel__shop", "outlet", "outlet__carrier")
    list_filter = ("code",)
    search_fields = ("=parcel__tracking_no", "^parcel__tracking_no")
    search_help_text = _("Tracking number, exact or its beginning.")
    exact_search_fields = ("parcel__tracking_no",)
    prefix_search_fields = ("parcel__tracking_no",)
    ordering = ("-pk",)
    shop_timezone_lookup = "parcel__shop__timezone"
    fields = ("parcel", "code", "occurred_at", "location", "description", "outlet", "imported_at")
    readonly_fields = fields

    @admin.display(description=_("occurred at"), ordering="occurred_at")
    def occurred_at_in_shop_time(self, event):
        return in_shop_time(event.occurred_at, event.parcel.shop)

    # Events are imported facts: the milestones are computed from them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("province", "city", "is_remote")
    list_filter = ("is_remote", "province")
    search_fields = ("^province", "^city")


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "is_working_day")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "date"


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "command",
        "source",
        "started_at",
        "finished_at",
        "dry_run",
        "rows_read",
        "rows_inserted",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "by",
    )
    list_select_related = ("by",)
    list_filter = ("command", "dry_run")
    search_fields = ("source",)
    readonly_fields = (*list_display, "error_report")

    def get_queryset(self, request):
        # A run names its file and counts rows of every shop in it: a user limited to shops sees their own.
        runs = super().get_queryset(request)
        return runs.filter(by=request.user) if is_limited(request.user) else runs

    # A record of what a command did: written by the commands only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EventArchive)
class EventArchiveAdmin(admin.ModelAdmin):
    """What `archive_events` exported and removed: written by the command only."""

    list_display = ("month", "events", "path", "archived_at")
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
