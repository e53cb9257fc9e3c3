"""Receivers of `fulfillment.signals.parcels_changed`: pickup back-dating and bag arrival (DESIGN.md).

A bagged parcel is not scanned at pickup: the agent takes the bag. When the parcel's sorting-centre
inbound scan arrives, its `picked_up_at` becomes its bag's pickup time. A parcel that travelled in a
bag without being on the bag's list counts from its inbound time instead. Each rule is one UPDATE
over the whole set; `fulfillment.services.parcels_refresh_milestones` keeps the earliest pickup
time, so the back-dated value survives later refreshes.
"""

from __future__ import annotations

from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from fulfillment.models import Parcel, ParcelDraft

from .models import BagItem, BagStatus, ConsolidationBag, Transition


def backdate_pickups(sender=None, *, parcel_ids, reason="", drafted=False, **kwargs) -> None:
    """`parcels_changed`: back-date (unless done on the drafts already), then mark bags received."""
    parcel_ids = list(parcel_ids)
    if not parcel_ids:
        return
    if not drafted:
        backdate_parcels(Parcel.objects.filter(pk__in=parcel_ids))
    mark_bags_received(parcel_ids)


def backdate_drafts(sender=None, **kwargs) -> None:
    """`parcels_drafted`: back-date the drafted parcels before they are written."""
    backdate_parcels(ParcelDraft.objects.all())


def backdate_parcels(parcels: QuerySet) -> tuple[int, int]:
    """Back-date the parcels of `parcels` (of `Parcel` or `ParcelDraft`) that have reached the sorting centre.

    Returns (bagged parcels back-dated to their bag's pickup, unlisted parcels dated from their inbound).
    """
    touch = {"updated_at": timezone.now()} if parcels.model is Parcel else {}
    in_a_bag = BagItem.objects.filter(parcel_id=OuterRef("pk"))
    in_a_picked_up_bag = in_a_bag.filter(
        bag__picked_up_at__isnull=False, bag__status__in=(BagStatus.PICKED_UP, BagStatus.RECEIVED)
    )
    bag_pickup = Subquery(in_a_picked_up_bag.values("bag__picked_up_at")[:1])
    bagged = (
        parcels.filter(sorting_centre_at__isnull=False)
        .filter(Exists(in_a_picked_up_bag))
        .filter(Q(picked_up_at__isnull=True) | ~Q(picked_up_at=bag_pickup))
        .update(picked_up_at=bag_pickup, **touch)
    )
    unlisted = (
        parcels.filter(sorting_centre_at__isnull=False, picked_up_at__isnull=True)
        .exclude(Exists(in_a_bag))
        .update(picked_up_at=F("sorting_centre_at"), **touch)
    )
    return bagged, unlisted


def mark_bags_received(parcel_ids: list[int]) -> int:
    """A picked-up bag is received once one of its parcels is scanned in at the sorting centre."""
    arrived = BagItem.objects.filter(
        bag_id=OuterRef("pk"), parcel_id__in=parcel_ids, parcel__sorting_centre_at__isnull=False
    )
    bag_ids = list(
        ConsolidationBag.objects.filter(status=BagStatus.PICKED_UP).filter(Exists(arrived)).values_list("pk", flat=True)
    )
    if not bag_ids:
        return 0
    first_inbound = (
        BagItem.objects.filter(bag_id=OuterRef("pk"), parcel__sorting_centre_at__isnull=False)
        .values("bag_id")
        .annotate(first=Min("parcel__sorting_centre_at"))
        .values("first")[:1]
    )
    changed = ConsolidationBag.objects.filter(pk__in=bag_ids, status=BagStatus.PICKED_UP).update(
        status=BagStatus.RECEIVED, received_at=Subquery(first_inbound)
    )
    reason = gettext("Its parcels arrived at the sorting centre")
    Transition.objects.bulk_create(
        [
            Transition(bag_id=bag_id, from_status=BagStatus.PICKED_UP, to_status=BagStatus.RECEIVED, reason=reason)
            for bag_id in bag_ids
        ]
    )
    return changed
