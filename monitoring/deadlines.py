"""Deadlines on the parcel, computed from its SLA policy in SQL sets (DESIGN.md, "Deadlines and rules").

Which policy governs a parcel is decided in SQL too (`policy_q`): a campaign policy (Taobao 618)
replaces the default for orders paid inside its window, a tier-specific policy beats an every-tier
one. Every deadline is written by a handful of UPDATE statements per policy: hour-based ones as
`milestone + interval`, day-based ones (Lazada "end of the Nth day after the order day", delivery
"20:00 local on the next day") as a CASE over the distinct local days of the set, never one
statement per parcel.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import Exact

from core.db.dialect import id_chunks, without_jit
from core.db.expressions import IsDistinctFrom, plus
from core.timezones import shop_zone
from fulfillment.calendar import add_days, at_local_hour, end_of_day, holiday_overrides, start_of_day
from fulfillment.models import DEADLINE_FIELDS, FINISHED_STATUSES, Order, Parcel, Region, has_warehouse_node
from monitoring.models import RouteStandard, SlaPolicy

# Parcels per statement when ids are given (SQLite's bound-variable limit leaves room for this).

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


def policy_for(
    *, platform: str, seller_tier: str, paid_at: datetime.datetime, policies: Sequence[SlaPolicy]
) -> SlaPolicy | None:
    """The policy governing one parcel, chosen as `policy_q` / `policy_assignments` choose in SQL."""
    for policy in policies:
        if policy.platform != platform or (policy.seller_tier and policy.seller_tier != seller_tier):
            continue
        if policy.campaign_starts_at is not None and (
            paid_at is None or not (policy.campaign_starts_at <= paid_at <= policy.campaign_ends_at)
        ):
            continue
        return policy
    return None


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


def recompute_deadlines(*, parcel_ids: Iterable[int] | None = None, parcels: QuerySet | None = None) -> int:
    """Recompute every deadline of the given parcels (ids, or a queryset; all parcels when neither).

    Returns the number of parcels whose deadlines changed.
    """
    policies = active_policies()
    if parcel_ids is None:
        return _recompute(parcels if parcels is not None else Parcel.objects.all(), policies)
    return sum(_recompute_ids(chunk, policies) for chunk in id_chunks(parcel_ids))


@transaction.atomic
def recompute_all_deadlines(*, unfinished_only: bool) -> int:
    """Every parcel's deadlines (or only those of parcels still on their way) after a policy,
    holiday or route standard change; returns how many parcels' deadlines changed."""
    parcels = Parcel.objects.all()
    if unfinished_only:
        parcels = parcels.exclude(status__in=FINISHED_STATUSES)
    return recompute_deadlines(parcels=parcels)


def _recompute(
    parcels: QuerySet, policies: Sequence[SlaPolicy], *, remote: Q | None = None, only_changed: bool = True
) -> int:
    without_jit()
    any_deadline = Q(pk__in=[])
    for column in DEADLINE_FIELDS:
        any_deadline |= Q(**{f"{column}__isnull": False})
    touched = parcels.filter(unassigned_q(policies)).filter(any_deadline).update(**dict.fromkeys(DEADLINE_FIELDS))
    route_days = sorted(set(RouteStandard.objects.values_list("days", flat=True)))
    for policy, governed in policy_assignments(policies):
        subset = parcels.filter(governed)
        zones = subset.order_by().values_list("shop__timezone", flat=True).distinct()
        for tz_name in zones:
            touched += _apply_policy(
                subset.filter(shop__timezone=tz_name), policy, tz_name, route_days, remote=remote, only_changed=only_changed
            )
    return touched


def _recompute_ids(ids: list[int], policies: Sequence[SlaPolicy]) -> int:
    """`_recompute` for a batch of ids (the `parcels_changed` path, one batch per import batch).

    The batch is small, so its parcels are sorted to their (policy, time zone) in Python with
    `policy_for` from one narrow read, and each group is updated by primary key: no per-policy
    DISTINCT over the set and no order join in every UPDATE's WHERE, which were most of the cost
    of a batch of a few thousand parcels.
    """
    without_jit()
    groups: dict[tuple[SlaPolicy | None, str], list[int]] = defaultdict(list)
    rows = Parcel.objects.filter(pk__in=ids).values_list(
        "pk", "platform", "order__seller_tier", "paid_at", "shop__timezone"
    )
    for pk, platform, seller_tier, paid_at, tz_name in rows:
        policy = policy_for(platform=platform, seller_tier=seller_tier, paid_at=paid_at, policies=policies)
        groups[(policy, tz_name)].append(pk)
    touched = 0
    unassigned = [pk for (policy, _tz), pks in groups.items() if policy is None for pk in pks]
    if unassigned:
        touched += (
            Parcel.objects.filter(pk__in=unassigned).filter(_any_deadline()).update(**dict.fromkeys(DEADLINE_FIELDS))
        )
    route_days = sorted(set(RouteStandard.objects.values_list("days", flat=True)))
    for (policy, tz_name), pks in groups.items():
        if policy is not None:
            touched += _apply_policy(
                Parcel.objects.filter(pk__in=pks), policy, tz_name, route_days, remote=destination_is_remote_probed()
            )
    return touched


def _any_deadline() -> Q:
    any_deadline = Q(pk__in=[])
    for column in DEADLINE_FIELDS:
        any_deadline |= Q(**{f"{column}__isnull": False})
    return any_deadline


def _plus_hours(field: str, hours: int | None):
    if hours is None:
        return None
    return _plus(field, hours * HOUR)


def _plus(field: str, delta: datetime.timedelta):
    return plus(field, delta)


def _order_matches(condition: Q) -> Exists:
    """EXISTS over the parcel's own order (by primary key): usable in an UPDATE's SET, unlike a join."""
    return Exists(Order.objects.filter(condition, pk=OuterRef("order_id")))


def destination_is_remote() -> Exists:
    """The destination province (a Region row with no city) or its city is marked remote."""
    province = Region.objects.filter(province=OuterRef("dest_province"), city="", is_remote=True)
    city = Region.objects.filter(province=OuterRef("dest_province"), city=OuterRef("dest_city"), is_remote=True)
    return _order_matches(Q(Exists(province)) | Q(Exists(city)))


def destination_is_remote_probed() -> Q:
    """`destination_is_remote` for a small set of parcels: the order's destination is read per parcel
    (scalar subqueries through the order's primary key), and only the small region table is searched.
    The EXISTS over the order above lets PostgreSQL hash the whole order table, once per use in the
    statement: right for a recompute of every parcel, most of the cost of a batch of a few thousand.
    """
    dest_province = _order_value("dest_province")
    province = Region.objects.filter(province=dest_province, city="", is_remote=True)
    city = Region.objects.filter(province=dest_province, city=_order_value("dest_city"), is_remote=True)
    return Q(Exists(province)) | Q(Exists(city))


def _order_value(column: str) -> Subquery:
    """A column of the parcel's order, from inside a subquery (hence the double OuterRef)."""
    return Subquery(Order.objects.filter(pk=OuterRef(OuterRef("order_id"))).values(column)[:1])


def route_standard_days() -> Subquery:
    """The route standard days of the order's origin → destination provinces (NULL without one).

    A scalar subquery, probed per parcel through the two unique indexes: an EXISTS here lets
    PostgreSQL hash the whole order table for a batch of a few thousand parcels.
    """
    return Subquery(
        RouteStandard.objects.filter(
            origin_province=_order_value("origin_province"), dest_province=_order_value("dest_province")
        ).values("days")[:1],
        output_field=IntegerField(),
    )


def _apply_policy(
    parcels: QuerySet,
    policy: SlaPolicy,
    tz_name: str,
    route_days: list[int],
    *,
    remote: Q | None = None,
    only_changed: bool = True,
) -> int:
    """One UPDATE for the parcels of one policy in one time zone, every deadline column at once.

    `only_changed`: write only rows whose deadlines differ (the parcel table: an unchanged re-run writes
    nothing). Drafts need no such filter — the pipeline's one write compares them with the parcels —
    and building it doubles the cost of compiling the statement."""
    tz = shop_zone(tz_name)
    working = policy.count_working_days
    pickup_warn = policy.pickup_warn_hours if policy.pickup_warn_hours is not None else policy.pickup_due_hours
    update_warn = policy.update_warn_hours if policy.update_warn_hours is not None else policy.update_due_hours
    values = {
        **_ship_values(parcels, policy, tz),
        # Without a separate warning threshold the warning instant is the due instant (never shown).
        "pickup_warn_at": _plus_hours("paid_at", pickup_warn if policy.pickup_due_hours is not None else None),
        "pickup_due_at": _plus_hours("paid_at", policy.pickup_due_hours),
        "update_warn_at": _plus_hours("picked_up_at", update_warn if policy.update_due_hours is not None else None),
        "update_due_at": _plus_hours("picked_up_at", policy.update_due_hours),
        "sorting_due_at": None,
        "delivery_due_at": None,
        "route_due_at": None,
    }
    if policy.sorting_due_days is not None:
        values["sorting_due_at"] = _local_day_case(
            parcels,
            "paid_at",
            tz,
            lambda day, o: end_of_day(add_days(day, policy.sorting_due_days, working=working, overrides=o), tz),
            working=working,
        )
    if policy.delivery_cutoff_hour is not None:
        cutoff = policy.delivery_cutoff_hour
        values["delivery_due_at"] = _local_day_case(
            parcels, "out_for_delivery_at", tz, lambda day, o: at_local_hour(day + DAY, cutoff, tz), working=False
        )
    picked = Q(picked_up_at__isnull=False)
    if policy.route_grace_days is not None and route_days:
        values["route_due_at"] = Case(
            *[
                When(
                    picked & Q(Exact(route_standard_days(), days)),
                    then=_plus("picked_up_at", (days + policy.route_grace_days) * DAY),
                )
                for days in route_days
            ],
            default=None,
            output_field=DateTimeField(),
        )
    stalled = picked & Q(last_event_at__isnull=False)
    if remote is None:
        remote = Q(destination_is_remote())
    for column, before in (("stagnation_due_at", 0), ("stagnation_warn_at", policy.stagnation_warn_before_hours)):
        values[column] = Case(
            When(stalled & remote, then=_plus_hours("last_event_at", max(policy.stagnation_remote_hours - before, 0))),
            When(stalled, then=_plus_hours("last_event_at", max(policy.stagnation_hours - before, 0))),
            default=None,
            output_field=DateTimeField(),
        )
    if not only_changed:
        return parcels.update(**values)
    # Only rows whose deadlines change are written (an unchanged re-run writes nothing).
    changed = Q(pk__in=[])
    for column, value in values.items():
        changed |= Q(**{f"{column}__isnull": False}) if value is None else Q(IsDistinctFrom(F(column), value))
    return parcels.filter(changed).update(**values)


def _ship_values(parcels: QuerySet, policy: SlaPolicy, tz) -> dict:
    """`ship_due_at` (hours after payment, or the end of the Nth day) and `ship_risk_at`: the same
    instant less the policy's at-risk hours, only for parcels with a warehouse node (DESIGN.md
    "Inside the warehouse": a shop that sends no nodes never has the clock)."""
    risk = policy.ship_at_risk_hours * HOUR
    if policy.ship_due_hours is not None:
        due = _plus("paid_at", policy.ship_due_hours * HOUR)
        at_risk = _plus("paid_at", policy.ship_due_hours * HOUR - risk)
    elif policy.ship_due_days is not None:
        working = policy.count_working_days

        def end_of_nth_day(day, overrides):
            return end_of_day(add_days(day, policy.ship_due_days, working=working, overrides=overrides), tz)

        due = _local_day_case(parcels, "paid_at", tz, end_of_nth_day, working=working)
        at_risk = _local_day_case(parcels, "paid_at", tz, lambda d, o: end_of_nth_day(d, o) - risk, working=working)
    else:
        return {"ship_due_at": None, "ship_risk_at": None}
    if at_risk is not None:
        at_risk = Case(When(has_warehouse_node(), then=at_risk), default=None, output_field=DateTimeField())
    return {"ship_due_at": due, "ship_risk_at": at_risk}


def _local_day_case(parcels: QuerySet, source: str, tz, deadline_for, *, working: bool):
    """CASE over the distinct local days of `source` in the set: each day's deadline (NULL without one)."""
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
        return None
    overrides = holiday_overrides(days[0], days[-1] + datetime.timedelta(days=120)) if working else None
    whens = [
        When(
            **{f"{source}__gte": start_of_day(day, tz), f"{source}__lt": start_of_day(day + DAY, tz)},
            then=Value(deadline_for(day, overrides)),
        )
        for day in reversed(days)  # recent days first: most rows of a big set are recent
    ]
    return Case(*whens, default=None, output_field=DateTimeField())


def derive_deadlines(drafts: QuerySet) -> int:
    """Monitoring's step of the parcel derivation pipeline: every deadline of the drafted parcels.

    The set statements of a full recompute, on the small draft table: the destination's remote
    flag and route standard are probed per draft through the order's primary key."""
    return _recompute(drafts, active_policies(), remote=destination_is_remote_probed(), only_changed=False)
