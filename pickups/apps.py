from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PickupsConfig(AppConfig):
    name = "pickups"
    verbose_name = _("Pickups")

    def ready(self):
        from fulfillment.signals import parcels_changed, parcels_drafted

        from . import receivers

        # Connected before monitoring's receiver (INSTALLED_APPS order), so deadlines see back-dated pickups.
        parcels_changed.connect(receivers.backdate_pickups, dispatch_uid="pickups.backdate_pickups")
        parcels_drafted.connect(receivers.backdate_drafts, dispatch_uid="pickups.backdate_drafts")
