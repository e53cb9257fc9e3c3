from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        from fulfillment.signals import parcels_changed, parcels_drafted
        from monitoring.deadlines import parcels_changed_receiver, parcels_drafted_receiver

        # Runs after the pickups receiver (INSTALLED_APPS order), so back-dated pickups count.
        parcels_changed.connect(parcels_changed_receiver, dispatch_uid="monitoring.recompute_deadlines")
        parcels_drafted.connect(parcels_drafted_receiver, dispatch_uid="monitoring.draft_deadlines")
