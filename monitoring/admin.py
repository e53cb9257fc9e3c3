"""Admin for the monitoring data: thresholds (managers edit them), route standards, alerts, tickets, complaints.

Alerts, tickets and complaints are written by the scan and the imports; here a manager reads them,
resolves a false sign-off complaint on its own page and answers a stagnation ticket on its page,
both through the services. Every admin of shop data keeps to the user's shops
(`ShopLimitedAdminMixin`, first base); policies and route standards are shared reference data.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import BigTableAdmin, ExactOrPrefixSearchMixin, ShopTimeZoneMixin, in_shop_time
from fulfillment.access import ShopLimitedAdminMixin
from fulfillment.admin import ParcelAdmin
from fulfillment.models import Parcel
from monitoring.models import Alert, AlertKind, Complaint, RouteStandard, SlaPolicy, StagnationTicket
from monitoring.services import alert_resolve, complaint_resolve, sla_policy_save, ticket_answer

EVENTS_SHOWN = 30


class OpenResolvedFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"
    field = "resolved_at"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("resolved", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(**{f"{self.field}__isnull": True})
        if self.value() == "resolved":
            return queryset.filter(**{f"{self.field}__isnull": False})
        return queryset


class AnsweredFilter(OpenResolvedFilter):
    title = _("answer")
    parameter_name = "answer"
    field = "answered_at"

    def lookups(self, request, model_admin):
        return [("open", _("Waiting for an answer")), ("resolved", _("Answered"))]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "platform", "seller_tier", "campaign_starts_at", "campaign_ends_at", "is_active")
    list_filter = ("platform", "seller_tier", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("code",)
    fieldsets = [
        (None, {"fields": ("code", "name", "platform", "seller_tier", "is_active")}),
        (_("Campaign window"), {"fields": ("campaign_starts_at", "campaign_ends_at")}),
        (_("Tmall / Taobao"), {"fields": ("ship_due_hours", "ship_requires_pickup")}),
        (_("Lazada"), {"fields": ("ship_due_days", "sorting_due_days", "count_working_days")}),
        (
            _("Pickup and first update"),
            {
                "fields": (
                    "pickup_warn_hours",
                    "pickup_due_hours",
                    "pickup_compensation_rate",
                    "update_warn_hours",
                    "update_due_hours",
                    "update_compensation_rate",
                )
            },
        ),
        (_("Delivery and route"), {"fields": ("delivery_cutoff_hour", "route_grace_days")}),
        (_("Warehouse nodes"), {"fields": ("ship_at_risk_hours",)}),
        (
            _("Stagnation and tickets"),
            {
                "fields": (
                    "stagnation_hours",
                    "stagnation_remote_hours",
                    "stagnation_warn_before_hours",
                    "ticket_warn_hours",
                    "ticket_response_hours",
                )
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if sla_policy_save(policy=obj, changed_fields=form.changed_data if change else ["*"], by=request.user):
            self.message_user(
                request,
                _("The deadlines of the parcels still on their way are being recomputed with the new thresholds."),
                messages.INFO,
            )


@admin.register(RouteStandard)
class RouteStandardAdmin(admin.ModelAdmin):
    list_display = ("origin_province", "dest_province", "days")
    list_filter = ("origin_province",)
    search_fields = ("^origin_province", "^dest_province")


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("How the complaint was settled; kept with the alert."),
    )


@admin.register(Alert)
class AlertAdmin(ShopLimitedAdminMixin, ShopTimeZoneMixin, BigTableAdmin):
    list_display = (
        "parcel",
        "kind",
        "level",
        "due_at",
        "raised_at",
        "escalated_at",
        "resolved_at",
        "compensation_estimate",
    )
    list_filter = (OpenResolvedFilter, "kind", "level")
    list_select_related = ("parcel", "resolved_by")
    exact_search_fields = ("parcel__tracking_no",)
    prefix_search_fields = ("parcel__tracking_no",)
    search_help_text = _("Tracking number, exact or its beginning.")
    readonly_fields = (
        "parcel",
        "kind",
        "level",
        "due_at",
        "raised_at",
        "escalated_at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
        "compensation_estimate",
    )
    actions = ["resolve_false_signoffs"]
    ordering = ("-raised_at",)
    shop_timezone_lookup = "parcel__shop__timezone"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # resolved alerts are the history: kept, never deleted

    def has_resolve_permission(self, request):
        return request.user.has_perm("monitoring.resolve_alert")

    @admin.action(permissions=["resolve"], description=_("Resolve false sign-off alerts with a note"))
    def resolve_false_signoffs(self, request, queryset):
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            resolved, refused = 0, []
            for alert in self.get_queryset(request).filter(pk__in=queryset.values("pk")).select_related("parcel"):
                try:
                    alert_resolve(alert=alert, by=request.user, note=form.cleaned_data["note"])
                    resolved += 1
                except (ValidationError, PermissionDenied) as error:
                    refused.append(f"{alert.parcel}: {_message(error)}")
            self.message_user(
                request,
                ngettext("%(count)d alert resolved.", "%(count)d alerts resolved.", resolved) % {"count": resolved},
                messages.SUCCESS if resolved else messages.WARNING,
            )
            if refused:
                self.message_user(
                    request,
                    _("%(count)d skipped: %(reasons)s") % {"count": len(refused), "reasons": "; ".join(refused[:10])},
                    messages.WARNING,
                )
            return None
        return TemplateResponse(
            request,
            "admin/monitoring/alert/resolve.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Resolve false sign-off alerts"),
                "opts": self.model._meta,
                "alerts": queryset.select_related("parcel")[:100],
                "false_signoffs": queryset.filter(kind=AlertKind.FALSE_SIGNOFF, resolved_at__isnull=True).count(),
                "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "form": form,
            },
        )


def _message(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


class TicketAnswerForm(forms.ModelForm):
    class Meta:
        model = StagnationTicket
        fields = ("response",)
        widgets = {"response": forms.Textarea(attrs={"rows": 5, "cols": 70})}

    def clean_response(self):
        response = (self.cleaned_data.get("response") or "").strip()
        if not response:
            raise ValidationError(_("Write the answer to send to the platform."))
        return response


def tracking_history(parcel, *, empty: str) -> str:
    """The parcel's latest tracking events as a table, times in the shop's time zone."""
    events = list(parcel.events.select_related("outlet").order_by("-occurred_at", "-pk")[:EVENTS_SHOWN])
    if not events:
        return empty
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (in_shop_time(e.occurred_at, parcel.shop), e.get_code_display(), e.location or "-",
             e.description or "-", (e.outlet.name or e.outlet.code) if e.outlet else "-")
            for e in events
        ),
    )
    return format_html(
        '<table class="tracking-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'
        "</thead><tbody>{}</tbody></table>",
        gettext("occurred at"), gettext("event"), gettext("location"), gettext("description"),
        gettext("courier outlet"), rows,
    )


@admin.register(StagnationTicket)
class StagnationTicketAdmin(ShopLimitedAdminMixin, ShopTimeZoneMixin, ExactOrPrefixSearchMixin, admin.ModelAdmin):
    """The change page is the answer form while the ticket waits for an answer, with the parcel's
    tracking history; its times (deadline included) in the shop's time zone."""

    shop_timezone_lookup = "parcel__shop__timezone"

    list_display = ("parcel", "opened_at", "response_warn_at", "response_due_at", "answered_at", "answered_by")
    list_filter = (AnsweredFilter,)
    list_select_related = ("parcel", "answered_by")
    exact_search_fields = ("parcel__tracking_no",)
    prefix_search_fields = ("parcel__tracking_no",)
    search_help_text = _("Tracking number, exact or its beginning.")
    form = TicketAnswerForm
    ordering = ("answered_at", "response_due_at")
    base_readonly = (
        "parcel", "opened_at", "response_warn_at", "response_due_at", "answered_at", "answered_by", "parcel_events",
    )
    fields = (*base_readonly, "response")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("tracking history"))
    def parcel_events(self, ticket):
        return tracking_history(ticket.parcel, empty=gettext("No tracking event yet."))

    def can_answer(self, request, obj) -> bool:
        return (
            obj is not None and obj.answered_at is None and request.user.has_perm("monitoring.answer_stagnationticket")
        )

    def get_readonly_fields(self, request, obj=None):
        if self.can_answer(request, obj):
            return self.base_readonly
        return (*self.base_readonly, "response")

    def save_model(self, request, obj, form, change):
        if not self.can_answer(request, obj) or "response" not in form.changed_data:
            return
        try:
            answered = ticket_answer(ticket=obj, by=request.user, response=form.cleaned_data["response"])
        except ValidationError as error:
            self.message_user(request, _message(error), messages.ERROR)
            return
        obj.answered_at, obj.answered_by = answered.answered_at, answered.answered_by


class ComplaintKindFilter(admin.SimpleListFilter):
    """The complaint kinds by their labels (the column holds codes such as `false_signoff`)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        present = set(model_admin.get_queryset(request).order_by().values_list("kind", flat=True).distinct())
        return [(kind, label) for kind, label in AlertKind.choices if kind in present]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class ComplaintResolveForm(forms.ModelForm):
    """The complaint's page is its resolve form while it is open: the note says how it was settled."""

    class Meta:
        model = Complaint
        fields = ("note",)
        widgets = {"note": forms.Textarea(attrs={"rows": 4, "cols": 70})}
        help_texts = {"note": _("How the complaint was settled; saving resolves it and its false sign-off alert.")}

    def clean_note(self):
        note = (self.cleaned_data.get("note") or "").strip()
        if not note:
            raise ValidationError(_("Write a note saying how the complaint was settled."))
        return note


@admin.register(Complaint)
class ComplaintAdmin(ShopLimitedAdminMixin, ShopTimeZoneMixin, ExactOrPrefixSearchMixin, admin.ModelAdmin):
    list_display = ("parcel", "kind_label", "opened_at", "resolved_at", "resolved_by")
    list_filter = (OpenResolvedFilter, ComplaintKindFilter)
    list_select_related = ("parcel", "resolved_by")
    exact_search_fields = ("parcel__tracking_no",)
    prefix_search_fields = ("parcel__tracking_no",)
    search_help_text = _("Tracking number, exact or its beginning.")
    form = ComplaintResolveForm
    shop_timezone_lookup = "parcel__shop__timezone"
    base_readonly = ("parcel", "kind_label", "opened_at", "resolved_at", "resolved_by", "parcel_events")
    fields = (*base_readonly, "note")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, complaint):
        return dict(AlertKind.choices).get(complaint.kind, complaint.kind)

    @admin.display(description=_("tracking history"))
    def parcel_events(self, complaint):
        return tracking_history(complaint.parcel, empty=gettext("No tracking event yet."))

    def can_resolve(self, request, obj) -> bool:
        return obj is not None and obj.resolved_at is None and request.user.has_perm("monitoring.resolve_alert")

    def get_readonly_fields(self, request, obj=None):
        return self.base_readonly if self.can_resolve(request, obj) else (*self.base_readonly, "note")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The page is the complaint's resolve form: one button that says so, when it may be resolved.
        context["can_resolve"] = self.can_resolve(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        if not self.can_resolve(request, obj):
            return
        try:
            resolved = complaint_resolve(complaint=obj, by=request.user, note=form.cleaned_data["note"])
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, _message(error), messages.ERROR)
            return
        obj.resolved_at, obj.resolved_by = resolved.resolved_at, resolved.resolved_by
        self.message_user(request, gettext("The complaint is resolved."), messages.SUCCESS)


# --------------------------------------------------------------------------- the parcel's page

ALERTS_SHOWN = 20


class MonitoredParcelAdmin(ParcelAdmin):
    """fulfillment's parcel page with the parcel's alerts (fulfillment knows nothing of alerts)."""

    def extra_fieldsets(self, request, obj) -> list:
        if obj is not None and request.user.has_perm("monitoring.view_alert"):
            return [(_("Alerts"), {"fields": ("alerts_table",)})]
        return []

    @admin.display(description=_("alerts"))
    def alerts_table(self, parcel):
        alerts = list(parcel.alerts.order_by("-raised_at", "-pk")[:ALERTS_SHOWN])
        if not alerts:
            return gettext("No alerts.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    alert.get_kind_display(),
                    alert.get_level_display(),
                    in_shop_time(alert.due_at, parcel.shop) or "-",
                    in_shop_time(alert.raised_at, parcel.shop),
                    in_shop_time(alert.resolved_at, parcel.shop) or gettext("open"),
                    alert.compensation_estimate if alert.compensation_estimate is not None else "-",
                )
                for alert in alerts
            ),
        )
        link = ""
        try:
            url = reverse("admin:monitoring_alert_changelist") + f"?parcel__id__exact={parcel.pk}"
            link = format_html('<p><a href="{}">{}</a></p>', url, gettext("All alerts of this parcel"))
        except NoReverseMatch:
            pass
        return format_html(
            '<table class="parcel-alerts"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>{}",
            gettext("kind"),
            gettext("level"),
            gettext("due at"),
            gettext("raised at"),
            gettext("resolved at"),
            gettext("compensation estimate"),
            rows,
            link,
        )


admin.site.unregister(Parcel)
admin.site.register(Parcel, MonitoredParcelAdmin)


from monitoring import shop_alert_admin  # noqa: E402, F401 — registers the shop alert admins
