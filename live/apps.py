from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    """Live data: tracking pushes from carriers and aggregators (DESIGN.md "Live data")."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "live"
    verbose_name = _("Live data")
