from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# The dashboards moved into the admin site (/admin/dashboard/...): old bookmarks still arrive.
OLD_DASHBOARD_PATHS = [
    path(f"dashboard/{old}", RedirectView.as_view(pattern_name=f"admin:{name}", query_string=True, permanent=True))
    for old, name in (
        ("", "dashboard_overview"),
        ("stalled/", "dashboard_stalled"),
        ("shops/", "dashboard_shops"),
        ("outlets/", "dashboard_outlets"),
    )
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("live.urls")),
    path("api/", include("api.urls")),
    *OLD_DASHBOARD_PATHS,
]
