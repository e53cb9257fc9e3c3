"""Admin of the pushes: sources and mappings are edited here; deliveries are read-only, with one
action that processes the selected unprocessed ones again (`push_delivery_process`)."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import BigTableAdmin, messages_of, report_applied

from .models import CarrierCodeMapping, PushDelivery, PushSource, StatusWordMapping
from .services import push_delivery_process


@admin.register(PushSource)
class PushSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)


@admin.register(CarrierCodeMapping)
class CarrierCodeMappingAdmin(admin.ModelAdmin):
    list_display = ("kind", "their_code", "carrier_code")
    list_filter = ("kind",)
    search_fields = ("their_code", "carrier_code")


@admin.register(StatusWordMapping)
class StatusWordMappingAdmin(admin.ModelAdmin):
    list_display = ("kind", "word", "code")
    list_filter = ("kind", "code")
    search_fields = ("word",)


@admin.register(PushDelivery)
class PushDeliveryAdmin(BigTableAdmin):
    """Every push ever received: estimated counts, no search over the bodies."""

    list_display = ("id", "source", "received_at", "verified", "processed_at", "counts")
    list_filter = ("source", "verified", ("processed_at", admin.EmptyFieldListFilter))
    list_select_related = ("source",)
    fields = ("source", "received_at", "verified", "processed_at", "counts", "entry_errors", "failure", "body")
    readonly_fields = fields
    actions = ["retry_processing"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what arrived is the record: read, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def has_process_permission(self, request):
        return request.user.has_perm("live.process_pushdelivery")

    @admin.display(description=_("counts"))
    def counts(self, delivery):
        outcome = delivery.outcome or {}
        if "entries" not in outcome:
            return "—"
        return ngettext(
            "%(entries)s entry: %(inserted)s new, %(unchanged)s already stored, %(rejected)s rejected",
            "%(entries)s entries: %(inserted)s new, %(unchanged)s already stored, %(rejected)s rejected",
            outcome.get("entries", 0),
        ) % {key: outcome.get(key, 0) for key in ("entries", "inserted", "unchanged", "rejected")}

    @admin.display(description=_("errors per entry"))
    def entry_errors(self, delivery):
        errors = (delivery.outcome or {}).get("errors") or []
        if not errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.get("ref") or _("(body)"), e.get("field", ""), e.get("message", "")) for e in errors),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("entry"),
            _("field"),
            _("message"),
            rows,
        )

    @admin.display(description=_("last failure"))
    def failure(self, delivery):
        outcome = delivery.outcome or {}
        if "failure" not in outcome:
            return "—"
        return _("%(failure)s (attempts: %(attempts)s)") % {"failure": outcome["failure"], "attempts": outcome.get("attempts", 1)}

    @admin.action(permissions=["process"], description=_("Retry processing of the selected deliveries"))
    def retry_processing(self, request, queryset):
        done, refused = 0, []
        for delivery in queryset.select_related("source").order_by("pk"):
            if delivery.processed_at is not None:
                refused.append(_("#%(id)s: already processed") % {"id": delivery.pk})
                continue
            try:
                push_delivery_process(delivery=delivery)
                done += 1
            except ValidationError as error:
                refused.append(f"#{delivery.pk}: {messages_of(error)}")
            except Exception as error:  # noqa: BLE001 — reported to the clerk; the delivery stays unprocessed
                refused.append(f"#{delivery.pk}: {type(error).__name__}: {error}"[:300])
        report_applied(
            self,
            request,
            refused=refused,
            done=done,
            done_message=ngettext("%(count)d delivery processed.", "%(count)d deliveries processed.", done) % {"count": done},
        )
