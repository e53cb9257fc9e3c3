"""The demo week as plain records, drawn from a fixed seed: the same week, relative to `now`, every time.

Pure: no database, no Django. It decides what happens and when — orders paid, tracking numbers
uploaded, parcels marked ready to ship, bagged, sealed, handed over, picked up, carried, tickets
opened — and writes it down as import rows (DESIGN.md, "Import formats") and warehouse actions
(`records`), which `replay` then feeds to the real importers and services in time order.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from . import records as r
from .journeys import ParcelPlan, cross_border_journey, domestic_journey, draw_fate, lazada_ready, warehouse_nodes
from .world import (
    AGENTS,
    BAG_KG,
    BAG_PARCELS,
    CARRIERS,
    CLERK_HOURS,
    COVERAGE,
    DAY,
    DESTINATIONS,
    HOUR,
    LAZADA_DESTINATIONS,
    MINUTE,
    NOT_REMOTE,
    ORIGIN_PROVINCES,
    OUTLETS,
    REMOTE_CITIES,
    REMOTE_PROVINCES,
    SCAN_HOURS,
    SEED,
    SHANGHAI,
    SHOPS,
    SPIKE_DAYS_BACK,
    SPIKE_SHARE,
    SPIKE_SHOP,
    WAREHOUSE_NODES_SHOP,
    WEEK,
    ShopPlan,
    local,
    route_days,
)

AMOUNTS = [19.9, 29, 39.9, 59, 79, 99, 129, 199, 299, 459, 899]
WEIGHTS = [0.2, 0.35, 0.5, 0.8, 1.2, 1.8, 2.6]
BAG_ROUND_HOUR = 15  # one bagging round a day; the agent comes 1.5-2.8 h later
CANCEL_REASON = "买家申请退款，订单已取消"


def stamp(moment: datetime.datetime) -> str:
    """A time as the platforms export it: ISO 8601, local time with its offset, whole seconds."""
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def whole_second(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(microsecond=0)


def fill_bags(parcels: list[ParcelPlan]) -> list[list[ParcelPlan]]:
    """Bags of at most BAG_PARCELS parcels and BAG_KG kilograms, well inside the sealing limits."""
    bags: list[list[ParcelPlan]] = [[]]
    weight = Decimal("0")
    for plan in parcels:
        if len(bags[-1]) >= BAG_PARCELS or weight + plan.weight > BAG_KG:
            bags.append([])
            weight = Decimal("0")
        bags[-1].append(plan)
        weight += plan.weight
    return [bag for bag in bags if bag]


class Planner:
    def __init__(self, now: datetime.datetime, *, seed: int = SEED):
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible demo week, not a secret
        self.now = whole_second(now)
        self.start = self.now - WEEK
        self.parcels: list[ParcelPlan] = []
        self.plan = r.DemoPlan(now=self.now, start=self.start)
        self.orders = 0
        self.serials: dict[str, int] = defaultdict(int)
        self.outlets_by_carrier: dict[str, list[str]] = defaultdict(list)
        for carrier, code, *_rest in OUTLETS:
            self.outlets_by_carrier[carrier].append(code)

    def run(self) -> r.DemoPlan:
        """The whole week: reference data, orders and their journeys, bag rounds, tickets, scans."""
        self.plan_reference()
        for shop in SHOPS:
            for _ in range(shop.orders):
                self.plan_order(shop)
        self.plan_ready_to_ship()
        self.plan_bag_rounds()
        self.plan_tracking_events()
        self.plan_tickets()
        self.plan.scans = [*self.daily(SCAN_HOURS, after=self.start), self.now]
        self.plan.rows.sort(key=lambda row: row.at)
        self.plan.actions.sort(key=lambda action: action.at)
        return self.plan

    # ------------------------------------------------------------------------------------- reference data

    def plan_reference(self) -> None:
        remote = [(p, "", "1") for p in REMOTE_PROVINCES] + [(p, c, "1") for p, c in REMOTE_CITIES]
        self.plan.reference = {
            r.REGIONS: [
                {"province": p, "city": c, "is_remote": flag} for p, c, flag in remote + [(*n, "0") for n in NOT_REMOTE]
            ],
            r.ROUTE_STANDARDS: [
                {"origin_province": origin, "dest_province": province, "days": str(route_days(origin, province))}
                for origin in ORIGIN_PROVINCES
                for province, _cities, _weight in DESTINATIONS
            ],
            r.COVERAGE: [{"province": p, "city": c} for p, c in COVERAGE],
        }
        self.plan.holiday_years = tuple(sorted({self.start.astimezone(SHANGHAI).year, self.now.astimezone(SHANGHAI).year}))

    # ------------------------------------------------------------------------------------- orders and parcels

    def tracking_no(self, carrier: str) -> str:
        """Unique per carrier: the serial scrambled by a step coprime with the number range."""
        _name, prefix, digits = CARRIERS[carrier]
        self.serials[carrier] += 1
        span = 9 * 10 ** (digits - 1)
        return f"{prefix}{10 ** (digits - 1) + (self.serials[carrier] * 7_368_787 + SEED) % span}"

    def paid_time(self, shop: ShopPlan) -> datetime.datetime:
        """More orders in the evening, few at night; the spike shop's unusual day takes a share of its orders."""
        start, span = self.start, self.now - self.start - HOUR
        if shop.code == SPIKE_SHOP and self.rng.random() < SPIKE_SHARE:
            start = local(self.now.astimezone(SHANGHAI).date() - datetime.timedelta(days=SPIKE_DAYS_BACK), 0)
            span = DAY - MINUTE
        while True:
            moment = start + span * self.rng.random()
            hour = moment.astimezone(SHANGHAI).hour
            weight = 0.15 if hour < 7 else (1.0 if hour < 19 else 1.6)
            if self.rng.random() < weight / 1.6:
                return whole_second(moment)

    def plan_order(self, shop: ShopPlan) -> None:
        """One order: its paid row, and one parcel (5% two, when both are shipped) with its journey."""
        rng = self.rng
        paid_at = self.paid_time(shop)
        self.orders += 1
        order_id = f"{paid_at.astimezone(SHANGHAI):%y%m%d}{3700000000 + self.orders * 7919 % 999999999}"
        if shop.platform == "lazada":
            dest_province, dest_city = rng.choice(LAZADA_DESTINATIONS)
        else:
            province, cities, _w = rng.choices(DESTINATIONS, weights=[d[2] for d in DESTINATIONS])[0]
            dest_province, dest_city = province, rng.choice(cities)
        amount = Decimal(rng.choice(AMOUNTS)).quantize(Decimal("0.01"))
        row = {
            "platform": shop.platform, "shop_code": shop.code, "order_id": order_id, "paid_at": stamp(paid_at),
            "amount": str(amount), "seller_tier": shop.seller_tier, "origin_province": shop.province,
            "dest_province": dest_province, "dest_city": dest_city,
            "carrier_code": "", "tracking_no": "", "shipped_at": "", "rts_at": "",
        }  # fmt: skip
        self.plan.rows.append(r.ImportRow(paid_at, r.ORDERS, row))
        parcel_count = 2 if rng.random() < 0.05 else 1
        for number in range(parcel_count):
            parcel = self.plan_parcel(shop, order_id, paid_at, dest_province, dest_city)
            if number and parcel.shipped_at is None:
                continue  # a second parcel exists only once its tracking number is uploaded
            self.parcels.append(parcel)
            if number == 0 and shop.code == WAREHOUSE_NODES_SHOP:
                self.plan_warehouse_nodes(parcel, row)
            if parcel.shipped_at is not None:
                shipped = {**row, "carrier_code": parcel.carrier, "tracking_no": parcel.tracking_no,
                           "shipped_at": stamp(parcel.shipped_at)}  # fmt: skip
                self.plan.rows.append(r.ImportRow(parcel.shipped_at, r.ORDERS, shipped))
            if parcel.cancelled_at is not None:
                parcel.cancelled_at = self.next_clerk_round(parcel.cancelled_at)  # refunds are handled in rounds
            if parcel.cancelled_at is not None:
                self.plan.actions.append(r.CancelParcel(parcel.cancelled_at, shop.platform, order_id, CANCEL_REASON))
            if parcel_count == 2 and number == 0 and parcel.shipped_at is None:
                break  # an unshipped or cancelled first parcel: a one-parcel order

    def plan_warehouse_nodes(self, parcel: ParcelPlan, row: dict) -> None:
        """The warehouse's nodes; the printed e-waybill's row gives the parcel its tracking number
        (not yet shipped: that is the later upload), so that its nodes can be imported."""
        warehouse_nodes(parcel, self.rng)
        if parcel.printed_at is None:
            return
        parcel.printed_at = whole_second(parcel.printed_at)
        if parcel.printed_at > self.now - 5 * MINUTE:
            parcel.printed_at, parcel.warehouse_events = None, []
            return
        printed = {**row, "carrier_code": parcel.carrier, "tracking_no": parcel.tracking_no}
        self.plan.rows.append(r.ImportRow(parcel.printed_at, r.ORDERS, printed))

    def plan_parcel(self, shop: ShopPlan, order_id, paid_at, dest_province, dest_city) -> ParcelPlan:
        rng = self.rng
        carrier = rng.choice(shop.carriers)
        plan = ParcelPlan(
            shop=shop,
            order_id=order_id,
            paid_at=paid_at,
            dest_province=dest_province,
            dest_city=dest_city,
            weight=Decimal(rng.choice(WEIGHTS)).quantize(Decimal("0.001")),
            carrier=carrier,
            tracking_no=self.tracking_no(carrier),
            fate=draw_fate(shop.platform, rng),
        )
        if shop.platform == "lazada":
            plan.rts_at = lazada_ready(plan, rng)
        else:
            domestic_journey(plan, rng, self.outlets_by_carrier[carrier])
        for name in ("shipped_at", "rts_at", "cancelled_at"):
            moment = getattr(plan, name)
            if moment is not None:
                setattr(plan, name, whole_second(moment) if moment <= self.now - 5 * MINUTE else None)
        return plan

    def plan_ready_to_ship(self) -> None:
        """Lazada parcels are marked ready to ship in the clerk's first round after they are packed."""
        rounds: dict[datetime.datetime, list[ParcelPlan]] = defaultdict(list)
        for plan in self.parcels:
            if plan.rts_at is None:
                continue
            plan.rts_at = self.next_clerk_round(plan.rts_at)
            if plan.rts_at is not None:
                rounds[plan.rts_at].append(plan)
        for at, group in rounds.items():
            self.plan.actions.append(r.MarkReadyToShip(at, "LEX", tuple(p.tracking_no for p in group)))

    def daily(self, hours: tuple[float, ...], *, after: datetime.datetime) -> list[datetime.datetime]:
        """The local `hours` of every day, strictly after `after` and before `now`."""
        day = after.astimezone(SHANGHAI).date()
        moments = []
        while local(day, 0) < self.now:
            moments += [m for m in (local(day, hour) for hour in hours) if after < m < self.now]
            day += datetime.timedelta(days=1)
        return moments

    def next_clerk_round(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The clerk's first round at or after `moment`; None if it has not come by `now`."""
        rounds = self.daily(CLERK_HOURS, after=moment - datetime.timedelta(seconds=1))  # at or after
        return rounds[0] if rounds and rounds[0] <= self.now - 5 * MINUTE else None

    # ------------------------------------------------------------------------------------- bags and sheets

    def plan_bag_rounds(self) -> None:
        """Lazada: a bagging round a day at 15:00, and one 1.5 h before `now` (still under way)."""
        rounds = []
        day = self.start.astimezone(SHANGHAI).date()
        # The last daily round is at least 12 h old, so the round "now" always has parcels to bag and book.
        while local(day, BAG_ROUND_HOUR) < self.now - 12 * HOUR:
            rounds.append(local(day, BAG_ROUND_HOUR))
            day += datetime.timedelta(days=1)
        rounds.append(self.now - 1.5 * HOUR)
        waiting = sorted((p for p in self.parcels if p.rts_at is not None), key=lambda p: p.rts_at)
        index = -1
        for round_at in rounds:
            taken = [p for p in waiting if p.rts_at <= round_at]
            waiting = waiting[len(taken) :]
            if not taken:
                continue
            index += 1  # the rounds that had parcels to bag
            chunks = fill_bags(taken)
            is_last = round_at == rounds[-1]
            if (index == 2 or is_last) and len(chunks[-1]) > 8:
                # A small bag of its own: lost by the carrier (third round) or still open (now).
                chunks.append(chunks[-1][-6:])
                chunks[-2] = chunks[-2][:-6]
            self.plan_round(index, round_at, chunks, is_last=is_last)

    def plan_round(self, index: int, round_at: datetime.datetime, chunks, *, is_last: bool) -> None:
        """Pack, seal and book the round's bags on one sheet; the agent takes them all at once."""
        add = self.plan.actions.append
        shop = chunks[0][0].shop
        sealed = []
        for number, chunk in enumerate(chunks):
            key = f"bag-{index}-{number}"
            weight = sum((p.weight for p in chunk), Decimal("0.30")).quantize(Decimal("0.01"))
            tracking = tuple(p.tracking_no for p in chunk)
            add(r.PackBag(round_at + number * MINUTE, key, shop.code, "SZ", tracking, str(weight), "70", "50",
                          str(min(55, 15 + len(chunk)))))  # fmt: skip
            if is_last and number == len(chunks) - 1 and len(chunks) > 1:
                continue  # the last one is still being filled
            add(r.SealBag(round_at + (20 + number) * MINUTE, key))
            sealed.append(key)
        booked = round_at + 40 * MINUTE
        window = (round_at + HOUR, round_at + 3 * HOUR)
        if index == 3:  # the agent's first booking fell through: cancelled, booked again
            add(r.BookSheet(booked, f"sheet-{index}-first", shop.code, "LEX", tuple(sealed), *window))
            add(r.CancelSheet(booked + 10 * MINUTE, f"sheet-{index}-first", "揽收员临时改约，改派下一班车"))
            booked += 15 * MINUTE
        sheet = f"sheet-{index}"
        add(r.BookSheet(booked, sheet, shop.code, "LEX", tuple(sealed), *window))
        if is_last:
            return  # booked, the agent is on the way
        pickup_at = whole_second(round_at + HOUR * self.rng.uniform(1.5, 2.8))
        add(r.ConfirmPickup(pickup_at, sheet, AGENTS[index % len(AGENTS)]))
        lost = index == 2 and len(chunks) > 1
        if lost:
            reported = min(pickup_at + 36 * HOUR, self.now - HOUR)
            add(r.ReportBagLost(reported, sealed[-1], "承运商确认该袋在转运途中遗失，申请理赔。"))
        for chunk in chunks[:-1] if lost else chunks:
            for plan in chunk:
                cross_border_journey(plan, self.rng, pickup_at)

    # ------------------------------------------------------------------------------------- events and tickets

    def plan_tracking_events(self) -> None:
        """The carriers' events known by `now` (a parcel's later journey has not happened yet)."""
        for plan in self.parcels:
            plan.events = [event for event in plan.events if event.at <= self.now]
            for event in plan.events:
                at = whole_second(event.at)
                row = {"carrier_code": plan.carrier, "tracking_no": plan.tracking_no, "code": event.code,
                       "occurred_at": stamp(at), "location": event.location, "description": event.description,
                       "outlet_code": event.outlet_code}  # fmt: skip
                self.plan.rows.append(r.ImportRow(at, r.EVENTS, row))
            for event in plan.warehouse_events:
                at, known = whole_second(event.at), whole_second(max(event.at, plan.printed_at))
                if known <= self.now:
                    row = {"carrier_code": plan.carrier, "tracking_no": plan.tracking_no, "code": event.code,
                           "occurred_at": stamp(at), "location": event.location, "description": event.description,
                           "outlet_code": ""}  # fmt: skip
                    self.plan.rows.append(r.ImportRow(known, r.EVENTS, row))

    def plan_tickets(self) -> None:
        """Two stagnation tickets (one answered, one waiting) and a false sign-off complaint, near the end."""
        opened_at = self.now - 20 * HOUR
        stalled = sorted(
            (p for p in self.parcels if p.fate == "stalled" and p.events and p.events[-1].at < self.now - 3 * DAY),
            key=lambda p: p.events[-1].at,
        )
        delivered = next(
            (p for p in self.parcels
             if p.shop.platform != "lazada" and p.events and p.events[-1].code == "delivered"
             and p.events[-1].at < opened_at),
            None,
        )  # fmt: skip
        complaints = [(p, "stagnation") for p in stalled[:2]] + ([(delivered, "false_signoff")] if delivered else [])
        for plan, kind in complaints:
            row = {"platform": plan.shop.platform, "order_id": plan.order_id, "tracking_no": plan.tracking_no,
                   "opened_at": stamp(opened_at), "kind": kind}  # fmt: skip
            self.plan.rows.append(r.ImportRow(opened_at, r.TICKETS, row))
        if stalled:
            first = stalled[0]
            self.plan.actions.append(
                r.AnswerTicket(
                    opened_at + 3 * HOUR, first.shop.platform, first.order_id, first.tracking_no, opened_at,
                    "已联系快递网点核实，包裹在中转场滞留，已要求加急转运，预计两日内派送。",
                )
            )  # fmt: skip


def plan_week(now: datetime.datetime, *, seed: int = SEED) -> r.DemoPlan:
    """The demo week ending at `now` (aware), the same for the same `now` and seed."""
    return Planner(now, seed=seed).run()
