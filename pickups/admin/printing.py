"""Printer preferences: each user chooses the paper of their printer from the label page (a switch
that saves it), administrators see and edit them here; `print_format` answers the print pages."""

from django.contrib import admin
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from pickups.models import LabelFormat, PrinterPreference
from pickups.selectors import label_format_for
from pickups.services import printer_preference_set


def print_format(request) -> dict:
    """The print page's format (`?format=` override, else the user's preference) and its switch."""
    label_format = label_format_for(request.user, request.GET.get("format"))
    return {
        "label_format": label_format,
        "thermal": label_format == LabelFormat.THERMAL_100X150,
        "label_formats": LabelFormat.choices,
        "printer_preference_url": reverse("admin:pickups_printerpreference_mine"),
    }


@admin.register(PrinterPreference)
class PrinterPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "label_format", "updated_at")
    list_select_related = ("user",)
    list_filter = ("label_format",)
    search_fields = ("^user__username",)
    raw_id_fields = ("user",)

    def get_urls(self):
        return [
            path("mine/", self.admin_site.admin_view(self.mine_view), name="pickups_printerpreference_mine"),
        ] + super().get_urls()

    def mine_view(self, request):
        """The user's own preference, saved from the label and sheet pages (any staff member may)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if request.POST.get("label_format") not in LabelFormat.values:
            return HttpResponseBadRequest("unknown label format")
        printer_preference_set(user=request.user, label_format=request.POST["label_format"])
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            back = reverse("admin:index")
        return HttpResponseRedirect(back)
