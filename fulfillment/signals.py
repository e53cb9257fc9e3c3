"""Signals that let the apps above `fulfillment` react to parcel changes without being imported by it.

`parcels_changed` is sent (inside the writer's transaction) after parcels or their order have been
written, with `parcel_ids` (a list of primary keys), `reason` ("orders", "events", "rts", ...) and
`drafted`. Receivers work on the whole set in SQL: `pickups` back-dates bagged parcels' pickup time
and marks bags received, then `monitoring` recomputes deadlines. Receivers run in INSTALLED_APPS order.

`parcels_drafted` is sent while tracking events are folded into parcels
(`services.parcels_fold_new_events`, `parcels_refresh_milestones`): the parcels' next values are
rows of `models.ParcelDraft` (every row of it is the batch), which receivers update in place —
pickups back-dates, monitoring computes the deadlines — before one UPDATE writes each changed parcel
once. The `parcels_changed` that follows has `drafted=True`: the work done on the drafts need not be
done again.
"""

from django.dispatch import Signal

parcels_changed = Signal()
parcels_drafted = Signal()
