from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The API for ERPs and scripts (DRF): orders in, parcels and alerts out, the pickup services."""

    default = True
    name = "api"
    verbose_name = _("API for ERPs")

    def ready(self):
        from . import schema  # noqa: F401 — registers the key's security scheme with drf-spectacular
