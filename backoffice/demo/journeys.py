"""One planned parcel and the carrier's tracking events of its journey (pure: no database).

Domestic parcels are scanned by their carrier's outlet and every hub on the way; the parcel's
`fate` bends the journey so that each rule of DESIGN.md has a true case to show (a late pickup, a
stalled parcel, no update after the pickup, an exception...). Lazada parcels travel bagged: their
events start at the sorting centre's inbound scan, after the bag's pickup.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from .world import (
    DAY,
    HOUR,
    OUTLET_NAMES,
    SHANGHAI,
    TRANSIT_HUBS,
    WAREHOUSE_NAME,
    ShopPlan,
    local,
    next_slot,
    route_days,
)

# (share of parcels below this roll, fate); the rest are "normal".
DOMESTIC_FATES = [
    (0.015, "not_shipped"),
    (0.03, "late_ship"),
    (0.07, "late_pickup"),
    (0.085, "never_picked_up"),
    (0.11, "stalled"),
    (0.125, "no_update"),
    (0.135, "not_delivered"),
    (0.142, "exception"),
    (0.15, "cancelled"),
]
LAZADA_FATES = [(0.05, "late_rts"), (0.07, "no_rts"), (0.09, "cancelled")]


@dataclass(frozen=True)
class Event:
    at: datetime.datetime
    code: str
    location: str
    description: str
    outlet_code: str = ""


@dataclass
class ParcelPlan:
    shop: ShopPlan
    order_id: str
    paid_at: datetime.datetime
    dest_province: str
    dest_city: str
    weight: Decimal
    carrier: str
    tracking_no: str
    fate: str
    shipped_at: datetime.datetime | None = None
    rts_at: datetime.datetime | None = None
    cancelled_at: datetime.datetime | None = None
    events: list[Event] = field(default_factory=list)
    # The warehouse's nodes, known once the e-waybill (the tracking number) is printed.
    printed_at: datetime.datetime | None = None
    warehouse_events: list[Event] = field(default_factory=list)


def draw_fate(platform: str, rng: random.Random) -> str:
    roll = rng.random()
    fates = LAZADA_FATES if platform == "lazada" else DOMESTIC_FATES
    return next((name for limit, name in fates if roll < limit), "normal")


def domestic_journey(plan: ParcelPlan, rng: random.Random, outlets: list[str]) -> None:
    """Ship, pick up and carry a Tmall or Taobao parcel as its fate says."""
    if plan.fate == "cancelled":
        plan.cancelled_at = plan.paid_at + HOUR * rng.uniform(0.5, 6)
        return
    if plan.fate == "not_shipped":
        return
    ship_hours = rng.uniform(26, 40) if plan.fate == "late_ship" else rng.uniform(0.3, 14)
    plan.shipped_at = plan.paid_at + HOUR * ship_hours
    if plan.fate == "never_picked_up":
        return
    outlet = rng.choice(outlets)
    outlet_name = OUTLET_NAMES[outlet]
    earliest = plan.paid_at + HOUR * (rng.uniform(49, 70) if plan.fate == "late_pickup" else 0)
    picked = next_slot(max(plan.shipped_at + HOUR, earliest), 15, 20, rng)
    add = plan.events.append
    add(Event(picked, "picked_up", outlet_name, f"【{outlet_name}】的快递员已揽收", outlet))
    if rng.random() < 0.3:
        add(Event(picked + HOUR * 0.2, "info", outlet_name, "包裹已打包，等待发往转运中心"))
    hub = plan.shop.hub
    if plan.fate == "no_update":
        add(Event(picked + HOUR * rng.uniform(28, 60), "in_transit", hub, f"快件已到达【{hub}】"))
        return
    left_hub = picked + HOUR * rng.uniform(3, 8)
    add(Event(left_hub, "in_transit", hub, f"快件已从【{hub}】发出，下一站【{plan.dest_city}转运中心】"))
    days = route_days(plan.shop.province, plan.dest_province)
    slow = 1 + (rng.random() < 0.06) * rng.uniform(1.5, 2.5)
    arrived = left_hub + DAY * days * slow * rng.uniform(0.55, 0.95)
    if plan.fate == "stalled":
        # Picked up and on the way, then silence: the stagnation rule's parcel.
        if rng.random() < 0.5:
            add(Event(left_hub + HOUR * rng.uniform(6, 16), "in_transit", "中转场", "快件在中转场操作中转"))
        return
    # Every hub on the way scans the parcel: a long route is not a stalled one.
    stop = left_hub + HOUR * rng.uniform(10, 20)
    while stop < arrived - 6 * HOUR:
        transit = rng.choice(TRANSIT_HUBS)
        add(Event(stop, "in_transit", transit, f"快件已到达【{transit}】，正在分拣"))
        stop += HOUR * rng.uniform(10, 22)
    dest_hub = f"{plan.dest_city}转运中心"
    add(Event(arrived, "in_transit", dest_hub, f"快件已到达【{dest_hub}】"))
    _last_mile(plan, rng, arrived)


def _last_mile(plan: ParcelPlan, rng: random.Random, arrived: datetime.datetime) -> None:
    add = plan.events.append
    station = f"{plan.dest_city}{rng.choice(['城东', '城西', '高新区', '开发区', '中心'])}营业部"
    out = next_slot(arrived + HOUR * 2, 7.5, 10, rng)
    add(Event(out, "out_for_delivery", station, f"【{station}】快递员正在派件，请保持电话畅通"))
    if plan.fate == "not_delivered":
        return
    if plan.fate == "exception":
        add(Event(out + HOUR * rng.uniform(2, 6), "exception", station, "收件人电话无人接听，地址不详，待联系"))
        return
    if rng.random() < 0.05:
        out2 = out + HOUR * rng.uniform(2, 5)
        add(Event(out2, "failed_attempt", station, "收件人不在，已预约再次派送"))
        out = out2 + DAY * 0.8
    signer = rng.choice(["本人签收", "快递柜签收（丰巢）", "菜鸟驿站代收", "门卫代收"])
    add(Event(out + HOUR * rng.uniform(1, 7), "delivered", station, f"已签收，签收人：{signer}"))


def lazada_ready(plan: ParcelPlan, rng: random.Random) -> datetime.datetime | None:
    """Tracking number at once; when the warehouse would mark it ready to ship (None: never)."""
    if plan.fate == "cancelled":
        plan.cancelled_at = plan.paid_at + HOUR * rng.uniform(0.5, 5)
        return None
    plan.shipped_at = plan.paid_at + HOUR * rng.uniform(0.2, 3)
    if plan.fate == "no_rts":
        return None
    if plan.fate == "late_rts":
        paid_day = plan.paid_at.astimezone(SHANGHAI).date()
        return local(paid_day + datetime.timedelta(days=3), rng.uniform(9, 14))
    return plan.shipped_at + HOUR * rng.uniform(1, 20)


def cross_border_journey(plan: ParcelPlan, rng: random.Random, pickup_at: datetime.datetime) -> None:
    """From the Shenzhen sorting centre's inbound scan to delivery abroad."""
    centre = plan.shop.hub
    inbound = pickup_at + HOUR * (rng.uniform(30, 60) if rng.random() < 0.04 else rng.uniform(3, 10))
    add = plan.events.append
    add(Event(inbound, "arrived_sorting_centre", centre, f"包裹已到达【{centre}】并完成入库扫描", "SZ-BA-FY"))
    left = inbound + HOUR * rng.uniform(12, 30)
    add(Event(left, "in_transit", centre, f"包裹已出库，发往 {plan.dest_city}"))
    landed = left + HOUR * rng.uniform(20, 40)
    add(Event(landed, "in_transit", f"{plan.dest_city} hub", "Arrived at destination country hub / 已到达目的国转运中心"))
    out = landed + HOUR * rng.uniform(10, 30)
    add(Event(out, "out_for_delivery", f"{plan.dest_city} LEX hub", "Out for delivery / 派送中"))
    add(Event(out + HOUR * rng.uniform(2, 8), "delivered", plan.dest_city, "Delivered / 已签收"))


def warehouse_nodes(plan: ParcelPlan, rng: random.Random) -> None:
    """The warehouse's nodes of a parcel: accepted minutes after payment, the e-waybill printed,
    picked, packed before the tracking number is uploaded as shipped. A parcel shipped late was
    printed in time and packed late (the `ship_at_risk` case); one never shipped was accepted and
    printed only. Cancelled parcels have none."""
    if plan.fate == "cancelled":
        return
    accepted = plan.paid_at + HOUR * rng.uniform(0.05, 0.6)
    if plan.shipped_at is not None:
        accepted = min(accepted, plan.paid_at + (plan.shipped_at - plan.paid_at) * 0.2)
    nodes = [(accepted, "wh_accepted", "仓库已接单")]
    if plan.shipped_at is not None and plan.fate != "late_ship":
        span = plan.shipped_at - accepted
        nodes += [
            (accepted + span * 0.3, "wh_printed", "电子面单已打印"),
            (accepted + span * 0.6, "wh_picked", "拣货完成"),
            (accepted + span * 0.9, "wh_packed", "已打包，待揽收"),
        ]
    else:
        printed = plan.paid_at + HOUR * rng.uniform(9, 15)
        nodes += [(printed, "wh_printed", "电子面单已打印"), (printed + HOUR * rng.uniform(0.5, 2), "wh_picked", "拣货完成")]
        if plan.shipped_at is not None:
            nodes.append((plan.shipped_at - HOUR * rng.uniform(0.2, 0.6), "wh_packed", "已打包，待揽收（超时）"))
    plan.printed_at = nodes[1][0]
    plan.warehouse_events = [Event(at, code, WAREHOUSE_NAME, text) for at, code, text in nodes]
