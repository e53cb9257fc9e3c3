from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The composition app, last in INSTALLED_APPS: what spans fulfillment, pickups and monitoring
    (the admin site, the upload page, the roles, the demo)."""

    default = True
    name = "backoffice"
    verbose_name = _("Back office")


class ParcelControlAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with this project's site as the default `admin.site`."""

    default = False
    default_site = "backoffice.site.ParcelControlSite"
