"""Pickups' steps of the parcel derivation pipeline (`settings.PARCEL_DERIVATION_STEPS`).

A bagged parcel is not scanned at pickup: the agent takes the bag. When the parcel's sorting-centre
inbound scan arrives, its `picked_up_at` becomes its bag's pickup time; a parcel that travelled in a
bag without being on the bag's list counts from its inbound time instead (DESIGN.md). A picked-up
bag is received once one of its parcels is scanned in. Each rule is one UPDATE over the drafts of
the batch; the parcels are then written once by fulfillment.
"""

from __future__ import annotations

from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from fulfillment.models import ParcelDraft
from fulfillment.parcel_state import drafts_backdate_pickup

from .models import BagItem, BagStatus, ConsolidationBag, Transition


def backdate_bag_pickups(drafts: QuerySet) -> tuple[int, int]:
    """Back-date the drafted parcels that have reached the sorting centre.

    Returns (bagged parcels back-dated to their bag's pickup, unlisted parcels dated from their inbound).
    """
    in_a_bag = BagItem.objects.filter(parcel_id=OuterRef("pk"))
    in_a_picked_up_bag = in_a_bag.filter(
        bag__picked_up_at__isnull=False, bag__status__in=(BagStatus.PICKED_UP, BagStatus.RECEIVED, BagStatus.LOST)
    )
    bag_pickup = Subquery(in_a_picked_up_bag.values("bag__picked_up_at")[:1])
    arrived = drafts.filter(sorting_centre_at__isnull=False)
    bagged = drafts_backdate_pickup(
        arrived.filter(Exists(in_a_picked_up_bag)).filter(Q(picked_up_at__isnull=True) | ~Q(picked_up_at=bag_pickup)),
        bag_pickup,
    )
    unlisted = drafts_backdate_pickup(
        arrived.filter(picked_up_at__isnull=True).exclude(Exists(in_a_bag)), F("sorting_centre_at")
    )
    return bagged, unlisted


def mark_bags_received(drafts: QuerySet) -> int:
    """Picked-up bags with a drafted parcel scanned in become received, at their first inbound scan."""
    arrived = BagItem.objects.filter(
        bag_id=OuterRef("pk"), parcel_id__in=drafts.filter(sorting_centre_at__isnull=False).values("pk")
    )
    bag_ids = list(
        ConsolidationBag.objects.filter(status=BagStatus.PICKED_UP).filter(Exists(arrived)).values_list("pk", flat=True)
    )
    if not bag_ids:
        return 0
    # The drafts hold the parcels' newest inbound times; the bag's other parcels are as stored.
    drafted_inbound = ParcelDraft.objects.filter(pk=OuterRef("parcel_id")).values("sorting_centre_at")[:1]
    first_inbound = (
        BagItem.objects.filter(bag_id=OuterRef("pk"))
        .annotate(inbound=Coalesce(Subquery(drafted_inbound), F("parcel__sorting_centre_at")))
        .values("bag_id")
        .annotate(first=Min("inbound"))
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
