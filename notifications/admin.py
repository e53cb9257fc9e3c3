"""Channels are set up here; digests are a read-only record with their failures and a retry."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fulfillment.access import is_limited

from .models import Digest, DigestStatus, NotificationChannel, OutletDispatch
from .outlets import outlet_dispatch_retry_now
from .services import digest_retry_now


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "min_level", "language", "active", "created_at")
    list_filter = ("kind", "active", "min_level")
    search_fields = ("name", "target")
    filter_horizontal = ("shops",)


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ("pk", "channel", "created_at", "alert_count", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel")
    readonly_fields = (
        "channel", "created_at", "alert_count", "status", "attempts", "next_attempt_at", "sent_at", "last_error",
        "claimed_until",
    )  # fmt: skip
    actions = ("retry_now",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request, queryset):
        digests = list(queryset.exclude(status=DigestStatus.SENT))
        for digest in digests:
            digest_retry_now(digest=digest)
        self.message_user(
            request,
            ngettext("%(count)d digest will be sent again.", "%(count)d digests will be sent again.", len(digests))
            % {"count": len(digests)},
        )


@admin.register(OutletDispatch)
class OutletDispatchAdmin(admin.ModelAdmin):
    """Who sent which outlet what, when, and how the sending went (from the outlet scorecard)."""

    list_display = ("pk", "outlet", "by", "created_at", "parcel_count", "kind", "status", "attempts", "sent_at")
    list_select_related = ("outlet__carrier", "by")
    list_filter = ("status", "kind")
    search_fields = ("^outlet__code", "outlet__name")
    readonly_fields = (
        "outlet", "by", "created_at", "kind", "target", "language", "parcel_count", "parcel_ids", "csv", "status",
        "attempts", "next_attempt_at", "sent_at", "last_error", "claimed_until",
    )  # fmt: skip
    exclude = ("secret", "lines", "token")
    actions = ("retry_now",)

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_limited(request.user):  # a user limited to shops sees what they sent
            queryset = queryset.filter(by=request.user)
        return queryset

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request, queryset):
        dispatches = list(queryset.exclude(status=DigestStatus.SENT))
        for dispatch in dispatches:
            outlet_dispatch_retry_now(dispatch=dispatch)
        self.message_user(
            request,
            ngettext(
                "%(count)d outlet dispatch will be sent again.", "%(count)d outlet dispatches will be sent again.",
                len(dispatches),
            ) % {"count": len(dispatches)},
        )  # fmt: skip
