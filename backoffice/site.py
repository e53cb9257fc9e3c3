"""The admin site of Parcel Control: its header, and the pages that belong to no single model.

The upload page and the managers' dashboards are added in `get_urls()`, as Django's own AdminSite adds
its index and login: behind `admin_view` (an active staff member, else the login page) and each with
its own permission check on top (`kinds_for` for uploads, `monitoring.view_dashboard` in the views).
Apps above backoffice add theirs through `settings.ADMIN_SITE_PAGES` (backoffice never imports them).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from backoffice.uploads import import_report_view, import_template_view, import_upload_view, kinds_for
from core.db.replica import replica_reads_view
from monitoring import views as dashboards


class ParcelControlSite(admin.AdminSite):
    site_header = _("Parcel Control")
    site_title = _("Parcel Control")
    index_title = _("Parcels, pickups and alerts")
    # There is no public site to "view"; the wide change lists need the room the navigation sidebar takes.
    site_url = None
    enable_nav_sidebar = False

    def get_urls(self):
        # Before Django's own patterns: they end with a catch-all.
        pages = [
            path("import/", self.admin_view(import_upload_view), {"site": self}, name="import_upload"),
            path(
                "import/template/<str:command>/",
                self.admin_view(import_template_view),
                {"site": self},
                name="import_template",
            ),
            path(
                "import/report/<str:token>/", self.admin_view(import_report_view), {"site": self}, name="import_report"
            ),
            path("dashboard/", self.dashboard(dashboards.overview), name="dashboard_overview"),
            path("dashboard/stalled/", self.dashboard(dashboards.stalled), name="dashboard_stalled"),
            path("dashboard/shops/", self.dashboard(dashboards.shops), name="dashboard_shops"),
            path("dashboard/outlets/", self.dashboard(dashboards.outlets), name="dashboard_outlets"),
        ]
        # Pages of the apps above (e.g. sending an outlet its parcels), named in settings.
        for dotted in getattr(settings, "ADMIN_SITE_PAGES", ()):
            pages += import_string(dotted)(self)
        return pages + super().get_urls()

    def dashboard(self, view):
        """A dashboard page (and its export): behind `admin_view`, its reads served by the replica if any."""
        return self.admin_view(replica_reads_view(view))

    def each_context(self, request):
        """Adds whether the user may open the upload page, for the index's link and the page itself."""
        context = super().each_context(request)
        context["import_upload_allowed"] = request.user.is_authenticated and bool(kinds_for(request.user))
        return context
