"""Official pickup coverage in the admin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import (
    PickupCoverage,
)


@admin.register(PickupCoverage)
class PickupCoverageAdmin(admin.ModelAdmin):
    list_display = ("province", "city_or_whole")
    list_filter = ("province",)
    search_fields = ("^province", "^city")

    @admin.display(description=_("city"), ordering="city")
    def city_or_whole(self, obj):
        return obj.city or format_html("<em>{}</em>", _("whole province"))
