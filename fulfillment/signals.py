"""The announcement apps above `fulfillment` may listen to, without being imported by it.

`parcels_changed` is sent once the transaction that wrote parcels has committed
(`fulfillment.derivations`), with `parcel_ids` (a list of at most 5,000 primary keys) and `reason`
("orders", "events", "rts", "picked_up", ...). It carries facts that are already true and written:
the derived columns (back-dated pickups, deadlines) were computed before the write by the steps of
`settings.PARCEL_DERIVATION_STEPS`, not by receivers, so nothing depends on the order of receivers.
"""

from django.dispatch import Signal

parcels_changed = Signal()
