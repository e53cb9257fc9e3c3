"""Deadlines on the parcel, computed from its SLA policy in SQL sets (DESIGN.md, "Deadlines and rules").

Which policy governs a parcel is decided in SQL too (`policy_q`): a campaign policy (Taobao 618)
replaces the default for orders paid inside its window, a tier-specific policy beats an every-tier
one. Every deadline is written by a handful of UPDATE statements per policy: hour-based ones as
`milestone + interval`, day-based ones (Lazada "end of the Nth day after the order day", delivery
"20:00 local on the next day") as a CASE over the distinct local days of the set, never one
statement per parcel.
"""

import datetime
from collections.abc import Iterable, Sequence

from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate

from fulfillment.calendar import add_days, at_local_hour, end_of_day, holiday_overrides, start_of_day, zone
from fulfillment.models import Parcel, Region
from monitoring.models import RouteStandard, SlaPolicy

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
)

# Parcels per statement when ids are given (SQLite's bound-variable limit leaves room for this).
ID_BATCH = 5000
# Local days per CASE expression.
DAYS_PER_CASE = 200

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def active_policies() -> list[SlaPolicy]:
    """Active policies, most specific first: campaigns, then a seller tier's own, then every-tier ones."""
    policies = list(SlaPolicy.objects.filter(is_active=True))
    return sorted(
        policies,
        key=lambda p: (p.campaign_starts_at is None, p.seller_tier == "", p.platform, p.code),
    )


def policy_q(policy: SlaPolicy) -> Q:
    """The parcels a policy would govern, ignoring more specific policies."""
    q = Q(platform=policy.platform)
    if policy.seller_tier:
        q &= Q(order__seller_tier=policy.seller_tier)
    if policy.campaign_starts_at is not None:
        q &= Q(paid_at__gte=policy.campaign_starts_at, paid_at__lte=policy.campaign_ends_at)
    return q


def policy_assignments(policies: Sequence[SlaPolicy]) -> list[tuple[SlaPolicy, Q]]:
    """Each policy with the Q of the parcels it governs: its own Q minus every more specific policy's."""
    assigned, earlier = [], Q(pk__in=[])
    for policy in policies:
        own = policy_q(policy)
        assigned.append((policy, own & ~earlier))
        earlier |= own
    return assigned


def unassigned_q(policies: Sequence[SlaPolicy]) -> Q:
    """Parcels no active policy governs: they have no deadlines."""
    anyone = Q(pk__in=[])
    for policy in policies:
        anyone |= policy_q(policy)
    return ~anyone


def is_remote_q() -> Q:
    """The destination province (a Region row with no city) or its city is marked remote."""
    province = Region.objects.filter(province=OuterRef("order__dest_province"), city="", is_remote=True)
    city = Region.objects.filter(
        province=OuterRef("order__dest_province"), city=OuterRef("order__dest_city"), is_remote=True
    ).exclude(city="")
    return Q(Exists(province)) | Q(Exists(city))


def recompute_deadlines(*, parcel_ids: Iterable[int] | None = None, parcels: QuerySet | None = None) -> int:
    """Recompute every deadline of the given parcels (ids, or a queryset; all parcels when neither).

    Returns the number of parcels written.
    """
    policies = active_policies()
    if parcel_ids is None:
        return _recompute(parcels if parcels is not None else Parcel.objects.all(), policies)
    ids = sorted(set(parcel_ids))
    touched = 0
    for start in range(0, len(ids), ID_BATCH):
        touched += _recompute(Parcel.objects.filter(pk__in=ids[start : start + ID_BATCH]), policies)
    return touched


def _recompute(parcels: QuerySet, policies: Sequence[SlaPolicy]) -> int:
    touched = parcels.filter(unassigned_q(policies)).update(**dict.fromkeys(DEADLINE_FIELDS))
    route_days = sorted(set(RouteStandard.objects.values_list("days", flat=True)))
    for policy, governed in policy_assignments(policies):
        subset = parcels.filter(governed)
        zones = subset.order_by().values_list("shop__timezone", flat=True).distinct()
        for tz_name in zones:
            touched += _apply_policy(subset.filter(shop__timezone=tz_name), policy, tz_name, route_days)
    return touched


def _plus_hours(field: str, hours: int | None):
    if hours is None:
        return None
    return F(field) + Value(hours * HOUR)


def _apply_policy(parcels: QuerySet, policy: SlaPolicy, tz_name: str, route_days: list[int]) -> int:
    pickup_warn = policy.pickup_warn_hours if policy.pickup_warn_hours is not None else policy.pickup_due_hours
    update_warn = policy.update_warn_hours if policy.update_warn_hours is not None else policy.update_due_hours
    if policy.pickup_due_hours is None:
        pickup_warn = None
    if policy.update_due_hours is None:
        update_warn = None
    # Hour-based deadlines; the others are cleared here and filled in below.
    count = parcels.update(
        ship_due_at=_plus_hours("paid_at", policy.ship_due_hours),
        pickup_warn_at=_plus_hours("paid_at", pickup_warn),
        pickup_due_at=_plus_hours("paid_at", policy.pickup_due_hours),
        update_warn_at=_plus_hours("picked_up_at", update_warn),
        update_due_at=_plus_hours("picked_up_at", policy.update_due_hours),
        sorting_due_at=None,
        delivery_due_at=None,
        route_due_at=None,
        stagnation_warn_at=None,
        stagnation_due_at=None,
    )
    if not count:
        return 0
    tz = zone(tz_name)
    working = policy.count_working_days
    if policy.ship_due_hours is None and policy.ship_due_days is not None:
        _set_by_local_day(
            parcels,
            "paid_at",
            "ship_due_at",
            tz,
            lambda day, o: end_of_day(add_days(day, policy.ship_due_days, working=working, overrides=o), tz),
            working=working,
        )
    if policy.sorting_due_days is not None:
        _set_by_local_day(
            parcels,
            "paid_at",
            "sorting_due_at",
            tz,
            lambda day, o: end_of_day(add_days(day, policy.sorting_due_days, working=working, overrides=o), tz),
            working=working,
        )
    if policy.delivery_cutoff_hour is not None:
        cutoff = policy.delivery_cutoff_hour
        _set_by_local_day(
            parcels.filter(out_for_delivery_at__isnull=False),
            "out_for_delivery_at",
            "delivery_due_at",
            tz,
            lambda day, o: at_local_hour(day + DAY, cutoff, tz),
            working=False,
        )
    if policy.route_grace_days is not None:
        picked = parcels.filter(picked_up_at__isnull=False)
        for days in route_days:
            standard = RouteStandard.objects.filter(
                origin_province=OuterRef("order__origin_province"),
                dest_province=OuterRef("order__dest_province"),
                days=days,
            )
            picked.filter(Exists(standard)).update(
                route_due_at=F("picked_up_at") + Value((days + policy.route_grace_days) * DAY)
            )
    stalled = parcels.filter(picked_up_at__isnull=False, last_event_at__isnull=False)
    for remote, hours in ((True, policy.stagnation_remote_hours), (False, policy.stagnation_hours)):
        which = stalled.filter(is_remote_q() if remote else ~is_remote_q())
        which.update(
            stagnation_due_at=F("last_event_at") + Value(hours * HOUR),
            stagnation_warn_at=F("last_event_at") + Value(max(hours - policy.stagnation_warn_before_hours, 0) * HOUR),
        )
    return count


def _set_by_local_day(parcels: QuerySet, source: str, target: str, tz, deadline_for, *, working: bool) -> None:
    """Set `target` from the local day of `source`, one CASE per batch of distinct days."""
    days = sorted(
        d
        for d in parcels.filter(**{f"{source}__isnull": False})
        .order_by()
        .annotate(local_day=TruncDate(source, tzinfo=tz))
        .values_list("local_day", flat=True)
        .distinct()
        if d is not None
    )
    if not days:
        return
    overrides = holiday_overrides(days[0], days[-1] + datetime.timedelta(days=120)) if working else None
    for start in range(0, len(days), DAYS_PER_CASE):
        chunk = days[start : start + DAYS_PER_CASE]
        whens = [
            When(
                **{f"{source}__gte": start_of_day(day, tz), f"{source}__lt": start_of_day(day + DAY, tz)},
                then=Value(deadline_for(day, overrides)),
            )
            for day in chunk
        ]
        parcels.filter(
            **{f"{source}__gte": start_of_day(chunk[0], tz), f"{source}__lt": start_of_day(chunk[-1] + DAY, tz)}
        ).update(**{target: Case(*whens, default=None, output_field=DateTimeField())})


def parcels_changed_receiver(sender, *, parcel_ids, reason="", **kwargs) -> None:
    """`fulfillment.signals.parcels_changed`: recompute the deadlines of the changed parcels."""
    recompute_deadlines(parcel_ids=parcel_ids)
