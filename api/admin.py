"""API clients in the admin: a new key is shown once, on a message, when the client is created or
its key is renewed; the writes are a read-only record."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ApiClient, ApiWrite
from .services import api_client_issue_key


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "acts_as", "can_read", "can_write", "active", "key_prefix", "last_used_at")
    list_filter = ("active", "can_write")
    search_fields = ("name", "^key_prefix")
    autocomplete_fields = ("acts_as",)
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    actions = ("renew_keys",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.key_prefix = f"new-{obj.name}"[:12]
        super().save_model(request, obj, form, change)
        if not change:
            self._show_key(request, obj, api_client_issue_key(client=obj))

    @admin.action(description=_("Issue a new key (the old one stops working)"), permissions=["change"])
    def renew_keys(self, request, queryset):
        for client in queryset.order_by("pk"):
            self._show_key(request, client, api_client_issue_key(client=client))

    def _show_key(self, request, client, key):
        self.message_user(
            request,
            _("Key of %(client)s, shown only this once: %(key)s") % {"client": client, "key": key},
            messages.WARNING,
        )


@admin.register(ApiWrite)
class ApiWriteAdmin(admin.ModelAdmin):
    list_display = ("at", "client", "method", "path", "status_code")
    list_filter = ("status_code", "method", "client")
    search_fields = ("path",)
    readonly_fields = ("client", "at", "method", "path", "status_code", "summary")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
