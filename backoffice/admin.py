"""The user page with the shops a user is limited to (fulfillment.access: none = every shop)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Shop

User = get_user_model()


class LimitedToShopsInline(admin.TabularInline):
    model = Shop.members.through
    extra = 0
    autocomplete_fields = ("shop",)
    verbose_name = _("shop this user is limited to")
    verbose_name_plural = _("Shops this user is limited to (none: every shop)")


class ParcelControlUserAdmin(UserAdmin):
    inlines = (*UserAdmin.inlines, LimitedToShopsInline)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ParcelControlUserAdmin)
