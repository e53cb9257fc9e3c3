"""The domain's vocabulary (DESIGN.md): platforms, seller tiers, the parcel's statuses and their rank,
tracking event codes, the deadline columns, and the "unfinished parcel" predicate."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.db.expressions import NotIn


class Platform(models.TextChoices):
    TMALL = "tmall", _("Tmall")
    TAOBAO = "taobao", _("Taobao")
    LAZADA = "lazada", _("Lazada")


class SellerTier(models.TextChoices):
    MALL = "mall", _("Mall")
    MARKETPLACE = "marketplace", _("Marketplace")


class ParcelStatus(models.TextChoices):
    """The latest milestone, derived from events and the handover workflow (never typed by hand)."""

    PAID = "paid", _("Paid, not shipped")
    SHIPPED = "shipped", _("Shipped (tracking number uploaded)")
    READY_TO_SHIP = "ready_to_ship", _("Ready to ship")
    BAGGED = "bagged", _("Bagged")
    HANDED_OVER = "handed_over", _("On a handover sheet")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    AT_SORTING_CENTRE = "at_sorting_centre", _("At sorting centre")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned")
    LOST = "lost", _("Lost")
    CANCELLED = "cancelled", _("Cancelled")


# The order of the forward milestones: a status never moves to a lower rank.
# Side exits rank above every forward milestone but `delivered` cannot be left either.
STATUS_RANK = {
    ParcelStatus.PAID: 0,
    ParcelStatus.SHIPPED: 10,
    ParcelStatus.READY_TO_SHIP: 20,
    ParcelStatus.BAGGED: 30,
    ParcelStatus.HANDED_OVER: 40,
    ParcelStatus.PICKED_UP: 50,
    ParcelStatus.IN_TRANSIT: 60,
    ParcelStatus.AT_SORTING_CENTRE: 70,
    ParcelStatus.OUT_FOR_DELIVERY: 80,
    ParcelStatus.EXCEPTION: 85,
    ParcelStatus.DELIVERED: 90,
    ParcelStatus.RETURNED: 95,
    ParcelStatus.LOST: 96,
    ParcelStatus.CANCELLED: 99,
}

# Parcels in these states raise no new alert (but false_signoff and ticket_response_overdue).
FINISHED_STATUSES = (ParcelStatus.CANCELLED, ParcelStatus.DELIVERED, ParcelStatus.RETURNED, ParcelStatus.LOST)


def unfinished() -> NotIn:
    """The "unfinished parcel" predicate, defined once for the partial indexes of the scan's clocks
    and for the scan itself: `NOT (status IN ('cancelled', 'delivered', 'returned', 'lost'))` with
    the statuses as literals, because SQLite uses a partial index only when the query repeats its
    WHERE term with the same constants (a bound parameter does not count)."""
    return NotIn("status", [str(status) for status in FINISHED_STATUSES])


# The scan's clocks read over unfinished parcels only (index name → column): delivered, cancelled,
# returned and lost parcels are most of the table and never raise these alerts.
UNFINISHED_CLOCK_INDEXES = {
    "parcel_open_stagn_warn_idx": "stagnation_warn_at",
    "parcel_open_update_warn_idx": "update_warn_at",
    "parcel_open_ship_due_idx": "ship_due_at",
}


def has_warehouse_node() -> Q:
    """The parcel has at least one warehouse node: one of its warehouse milestones is set."""
    condition = Q(pk__in=[])
    for column in WAREHOUSE_MILESTONES:
        condition |= Q(**{f"{column}__isnull": False})
    return condition


# The parcel's deadline columns, computed by monitoring from its SLA policy.
DEADLINE_FIELDS = (
    "ship_due_at",
    "pickup_warn_at",
    "pickup_due_at",
    "update_warn_at",
    "update_due_at",
    "sorting_due_at",
    "delivery_due_at",
    "route_due_at",
    "stagnation_warn_at",
    "stagnation_due_at",
    "ship_risk_at",
)


class EventCode(models.TextChoices):
    INFO = "info", _("Information")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED_SORTING_CENTRE = "arrived_sorting_centre", _("Arrived at sorting centre")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    FAILED_ATTEMPT = "failed_attempt", _("Failed delivery attempt")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned")
    LOST = "lost", _("Lost")
    # The warehouse's own nodes (DESIGN.md "Inside the warehouse"): milestones of their own, never
    # a valid node for the carrier rules and never a status.
    WH_ACCEPTED = "wh_accepted", _("Warehouse: order accepted")
    WH_PRINTED = "wh_printed", _("Warehouse: waybill printed")
    WH_PICKED = "wh_picked", _("Warehouse: picked")
    WH_PACKED = "wh_packed", _("Warehouse: packed")


WAREHOUSE_NODE_CODES = (EventCode.WH_ACCEPTED, EventCode.WH_PRINTED, EventCode.WH_PICKED, EventCode.WH_PACKED)

# The warehouse milestones on the parcel, each the earliest event of its code.
WAREHOUSE_MILESTONES = {
    "accepted_at": EventCode.WH_ACCEPTED,
    "printed_at": EventCode.WH_PRINTED,
    "picked_at": EventCode.WH_PICKED,
    "packed_at": EventCode.WH_PACKED,
}

# Every carrier code but `info` is a valid node (DESIGN.md); warehouse nodes are not.
VALID_NODE_CODES = tuple(c for c in EventCode.values if c != EventCode.INFO and c not in WAREHOUSE_NODE_CODES)
