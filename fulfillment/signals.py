"""Signals that let the apps above `fulfillment` react to parcel changes without being imported by it.

`parcels_changed` is sent (inside the importer's transaction) after a batch of orders or events has
been written and the milestones refreshed, with `parcel_ids` (a list of primary keys) and `reason`
("orders", "events", ...). Receivers work on the whole set in SQL: `pickups` back-dates bagged
parcels' pickup time, then `monitoring` recomputes deadlines. Receivers run in INSTALLED_APPS order.
"""

from django.dispatch import Signal

parcels_changed = Signal()
