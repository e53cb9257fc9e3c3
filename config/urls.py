from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from monitoring.uploads import import_upload_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/import/", admin.site.admin_view(import_upload_view), name="import-upload"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("monitoring.urls")),
]
