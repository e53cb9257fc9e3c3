"""Channels are set up here; digests are a read-only record with their failures and a retry."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Digest, DigestStatus, NotificationChannel
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
