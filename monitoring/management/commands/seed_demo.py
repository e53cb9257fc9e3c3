"""Fill an empty database with a realistic week of three shops so that every page has something true to show.

The week is replayed in order, six hours at a time: orders are paid, tracking numbers uploaded,
Lazada parcels marked ready to ship, bagged, sealed, put on handover sheets and picked up, tracking
events arrive, and after every step `monitoring.services.scan(now=...)` runs as Celery beat would.
So deadlines, alerts (raised, upgraded and resolved at the right instants) and indicators are the
ones the real code computes, not typed values. Writes are set-based (bulk_create, the services).
The plan is drawn from a fixed random seed: the same week, relative to now, on every database.

Running it again on a database that already has the demo shops changes nothing.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from fulfillment import services as fulfillment_services
from fulfillment.models import (
    Carrier,
    CarrierOutlet,
    EventCode,
    Order,
    Parcel,
    ParcelStatus,
    Region,
    Shop,
)
from fulfillment.models import (
    TrackingEvent as Event,
)
from monitoring import services as monitoring_services
from monitoring.models import Complaint, RouteStandard, SlaPolicy, StagnationTicket
from pickups import services as pickup_services
from pickups.models import ConsolidationBag, PickupCoverage

SEED = 618
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
BAG_PARCELS = 40
BAG_KG = Decimal("42")
STEP = 6 * HOUR  # the scan replays every six hours of the week
WEEK = 7 * DAY

# ---------------------------------------------------------------------------------------------- reference data

CARRIERS = {
    "YTO": ("圆通速递", "YT", 13),
    "ZTO": ("中通快递", "75", 12),
    "STO": ("申通快递", "77", 11),
    "YUNDA": ("韵达快递", "43", 13),
    "SF": ("顺丰速运", "SF", 13),
    "JT": ("极兔速递", "JT", 13),
    "LEX": ("Lazada 物流 (LEX)", "LZCN", 10),
}

OUTLETS = [
    # carrier, code, name, province, city, stars
    ("YTO", "HZ-YH-CQ", "杭州余杭仓前网点", "浙江省", "杭州市", 5),
    ("YTO", "HZ-XH-WX", "杭州西湖文新网点", "浙江省", "杭州市", 3),
    ("ZTO", "HZ-YH-LZ", "杭州余杭良渚网点", "浙江省", "杭州市", 4),
    ("ZTO", "YW-FT", "义乌福田网点", "浙江省", "金华市", 4),
    ("ZTO", "YW-CC", "义乌稠城网点", "浙江省", "金华市", 2),
    ("STO", "YW-BY", "义乌北苑网点", "浙江省", "金华市", 3),
    ("YUNDA", "YW-JD", "义乌江东网点", "浙江省", "金华市", 4),
    ("SF", "HZ-WLKJC", "杭州未来科技城营业点", "浙江省", "杭州市", 5),
    ("JT", "YW-NSL", "义乌廿三里网点", "浙江省", "金华市", 2),
    ("LEX", "SZ-BA-FY", "深圳宝安福永揽收站", "广东省", "深圳市", 4),
]

DESTINATIONS = [
    # province, cities, weight (share of buyers), hub
    ("广东省", ["广州市", "深圳市", "东莞市", "佛山市"], 14),
    ("江苏省", ["南京市", "苏州市", "无锡市", "常州市"], 11),
    ("浙江省", ["杭州市", "宁波市", "温州市", "绍兴市"], 10),
    ("上海市", ["上海市"], 8),
    ("北京市", ["北京市"], 7),
    ("山东省", ["济南市", "青岛市", "烟台市"], 7),
    ("四川省", ["成都市", "绵阳市"], 6),
    ("湖北省", ["武汉市", "宜昌市"], 5),
    ("河南省", ["郑州市", "洛阳市"], 5),
    ("福建省", ["福州市", "厦门市", "泉州市"], 5),
    ("湖南省", ["长沙市", "株洲市"], 4),
    ("安徽省", ["合肥市", "芜湖市"], 4),
    ("陕西省", ["西安市"], 3),
    ("重庆市", ["重庆市"], 3),
    ("天津市", ["天津市"], 2),
    ("辽宁省", ["沈阳市", "大连市"], 2),
    ("云南省", ["昆明市", "大理白族自治州"], 2),
    ("甘肃省", ["兰州市", "甘南藏族自治州"], 1),
    ("内蒙古自治区", ["呼和浩特市", "阿拉善盟"], 1),
    ("海南省", ["海口市", "三沙市"], 1),
    ("西藏自治区", ["拉萨市", "日喀则市"], 1),
    ("新疆维吾尔自治区", ["乌鲁木齐市", "喀什地区"], 1),
    ("青海省", ["西宁市"], 1),
]

# Remote destinations get 96 h instead of 72 h before a parcel counts as stagnant.
REMOTE_PROVINCES = ["西藏自治区", "新疆维吾尔自治区", "青海省"]
REMOTE_CITIES = [("内蒙古自治区", "阿拉善盟"), ("甘肃省", "甘南藏族自治州"), ("海南省", "三沙市")]
NOT_REMOTE = [("内蒙古自治区", ""), ("甘肃省", ""), ("海南省", "")]

# Standard transit days from the two origin provinces (before the 3-day grace of route_overdue).
NEAR = {"浙江省": 1, "上海市": 1, "江苏省": 1, "安徽省": 2, "福建省": 2, "广东省": 2}
FAR = {"西藏自治区": 6, "新疆维吾尔自治区": 6, "青海省": 5, "甘肃省": 4, "内蒙古自治区": 4, "海南省": 4}

COVERAGE = [
    ("浙江省", "杭州市"),
    ("浙江省", "金华市"),
    ("浙江省", "宁波市"),
    ("浙江省", "温州市"),
    ("广东省", "深圳市"),
    ("广东省", "广州市"),
    ("广东省", "东莞市"),
    ("江苏省", "苏州市"),
    ("上海市", ""),
    ("福建省", "泉州市"),
]

LAZADA_DESTINATIONS = [
    ("Selangor", "Petaling Jaya"),
    ("Kuala Lumpur", "Kuala Lumpur"),
    ("Penang", "George Town"),
    ("Metro Manila", "Quezon City"),
    ("Bangkok", "Bangkok"),
    ("Singapore", "Singapore"),
]


@dataclass(frozen=True)
class ShopPlan:
    code: str
    name: str
    platform: str
    seller_tier: str
    province: str
    city: str
    address: str
    hub: str
    orders: int
    carriers: tuple[str, ...]


SHOPS = [
    ShopPlan(
        "tmall-hz-youpin",
        "优品生活天猫旗舰店",
        "tmall",
        "mall",
        "浙江省",
        "杭州市",
        "浙江省杭州市余杭区仓前街道文一西路 1500 号 3 号仓",
        "杭州转运中心",
        800,
        ("YTO", "ZTO", "SF"),
    ),
    ShopPlan(
        "taobao-yw-xiaoshangpin",
        "义乌小商品淘宝店",
        "taobao",
        "marketplace",
        "浙江省",
        "金华市",
        "浙江省金华市义乌市福田街道国际商贸城二区 18 号门",
        "义乌转运中心",
        700,
        ("ZTO", "YUNDA", "STO", "JT"),
    ),
    ShopPlan(
        "lazada-sz-crossborder",
        "深圳跨境 Lazada 店",
        "lazada",
        "marketplace",
        "广东省",
        "深圳市",
        "广东省深圳市宝安区福永街道凤凰第四工业区 A 栋 2 楼",
        "深圳 Lazada 跨境分拣中心",
        500,
        ("LEX",),
    ),
]
DEMO_SHOP_CODES = [shop.code for shop in SHOPS]
TRANSIT_HUBS = [
    "南昌转运中心",
    "武汉转运中心",
    "郑州转运中心",
    "长沙转运中心",
    "西安转运中心",
    "济南转运中心",
    "合肥转运中心",
]
AGENTS = ["王师傅 (LEX-0231)", "李师傅 (LEX-0187)", "陈师傅 (LEX-0302)"]

# ---------------------------------------------------------------------------------------------- the plan


@dataclass
class ParcelPlan:
    key: int
    shop: ShopPlan
    order_id: str
    paid_at: datetime.datetime
    amount: Decimal
    dest_province: str
    dest_city: str
    weight: Decimal
    carrier: str
    tracking_no: str
    fate: str
    shipped_at: datetime.datetime | None = None
    rts_at: datetime.datetime | None = None
    cancelled_at: datetime.datetime | None = None
    # (occurred_at, code, location, description, outlet code)
    events: list[tuple] = field(default_factory=list)
    parcel_id: int | None = None


@dataclass
class BagPlan:
    at: datetime.datetime
    parcels: list[ParcelPlan]
    pickup_at: datetime.datetime | None
    sealed: bool = True
    lost: bool = False
    cancelled_first: bool = False
    sheet: object = None
    done: bool = False


def local(day: datetime.date, hour: float) -> datetime.datetime:
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(hours=hour)
    return naive.replace(tzinfo=SHANGHAI)


def next_slot(after: datetime.datetime, hour_from: float, hour_to: float, rng: random.Random) -> datetime.datetime:
    """The first daily time window (local) starting after `after`, at a random point inside it."""
    day = after.astimezone(SHANGHAI).date()
    for offset in range(3):
        start = local(day + datetime.timedelta(days=offset), hour_from)
        end = local(day + datetime.timedelta(days=offset), hour_to)
        if end > after:
            start = max(start, after)
            return start + (end - start) * rng.random()
    return after + DAY


class Planner:
    def __init__(self, now: datetime.datetime):
        self.rng = random.Random(SEED)  # noqa: S311 - a reproducible demo week, not a secret
        self.now = now
        self.start = now - WEEK
        self.parcels: list[ParcelPlan] = []
        self.bags: list[BagPlan] = []
        self.serials: dict[str, int] = defaultdict(int)
        self.outlets_by_carrier: dict[str, list[str]] = defaultdict(list)
        for carrier, code, *_rest in OUTLETS:
            self.outlets_by_carrier[carrier].append(code)

    def tracking_no(self, carrier: str) -> str:
        """Unique per carrier: the serial scrambled by a step coprime with the number range."""
        _name, prefix, digits = CARRIERS[carrier]
        self.serials[carrier] += 1
        span = 9 * 10 ** (digits - 1)
        return f"{prefix}{10 ** (digits - 1) + (self.serials[carrier] * 7_368_787 + SEED) % span}"

    def paid_time(self) -> datetime.datetime:
        # More orders in the evening, few at night.
        while True:
            moment = self.start + (self.now - self.start - HOUR) * self.rng.random()
            hour = moment.astimezone(SHANGHAI).hour
            weight = 0.15 if hour < 7 else (1.0 if hour < 19 else 1.6)
            if self.rng.random() < weight / 1.6:
                return moment

    def plan(self) -> None:
        order_serial = 0
        for shop in SHOPS:
            for _ in range(shop.orders):
                order_serial += 1
                paid_at = self.paid_time()
                order_id = f"{paid_at.astimezone(SHANGHAI):%y%m%d}{3700000000 + order_serial * 7919 % 999999999}"
                if shop.platform == "lazada":
                    dest_province, dest_city = self.rng.choice(LAZADA_DESTINATIONS)
                else:
                    province, cities, _w = self.rng.choices(DESTINATIONS, weights=[d[2] for d in DESTINATIONS])[0]
                    dest_province, dest_city = province, self.rng.choice(cities)
                amount = Decimal(self.rng.choice([19.9, 29, 39.9, 59, 79, 99, 129, 199, 299, 459, 899])).quantize(
                    Decimal("0.01")
                )
                parcel_count = 2 if self.rng.random() < 0.05 else 1
                for _n in range(parcel_count):
                    self.parcels.append(
                        self.plan_parcel(shop, order_id, paid_at, amount / parcel_count, dest_province, dest_city)
                    )
        self.plan_bags()

    def plan_parcel(self, shop, order_id, paid_at, amount, dest_province, dest_city) -> ParcelPlan:
        rng = self.rng
        carrier = rng.choice(shop.carriers)
        roll = rng.random()
        if shop.platform == "lazada":
            fates = [(0.05, "late_rts"), (0.07, "no_rts"), (0.09, "cancelled")]
        else:
            fates = [
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
        fate = next((name for limit, name in fates if roll < limit), "normal")
        plan = ParcelPlan(
            key=len(self.parcels),
            shop=shop,
            order_id=order_id,
            paid_at=paid_at,
            amount=amount.quantize(Decimal("0.01")),
            dest_province=dest_province,
            dest_city=dest_city,
            weight=Decimal(rng.choice([0.2, 0.35, 0.5, 0.8, 1.2, 1.8, 2.6])).quantize(Decimal("0.001")),
            carrier=carrier,
            tracking_no=self.tracking_no(carrier),
            fate=fate,
        )
        if shop.platform == "lazada":
            self.plan_lazada(plan)
        else:
            self.plan_domestic(plan)
        return plan

    def plan_domestic(self, plan: ParcelPlan) -> None:
        rng = self.rng
        shop = plan.shop
        if plan.fate == "cancelled":
            plan.cancelled_at = plan.paid_at + HOUR * rng.uniform(0.5, 6)
            return
        if plan.fate == "not_shipped":
            return
        ship_hours = rng.uniform(26, 40) if plan.fate == "late_ship" else rng.uniform(0.3, 14)
        plan.shipped_at = plan.paid_at + HOUR * ship_hours
        if plan.fate == "never_picked_up":
            return
        outlet = rng.choice(self.outlets_by_carrier[plan.carrier])
        outlet_name = next(o[2] for o in OUTLETS if o[1] == outlet)
        earliest = plan.paid_at + HOUR * (rng.uniform(49, 70) if plan.fate == "late_pickup" else 0)
        picked = next_slot(max(plan.shipped_at + HOUR, earliest), 15, 20, rng)
        add = plan.events.append
        add((picked, EventCode.PICKED_UP, outlet_name, f"【{outlet_name}】的快递员已揽收", outlet))
        if rng.random() < 0.3:
            add((picked + HOUR * 0.2, EventCode.INFO, outlet_name, "包裹已打包，等待发往转运中心", ""))
        if plan.fate == "no_update":
            later = picked + HOUR * rng.uniform(28, 60)
            add((later, EventCode.IN_TRANSIT, shop.hub, f"快件已到达【{shop.hub}】", ""))
            return
        left_hub = picked + HOUR * rng.uniform(3, 8)
        add(
            (
                left_hub,
                EventCode.IN_TRANSIT,
                shop.hub,
                f"快件已从【{shop.hub}】发出，下一站【{plan.dest_city}转运中心】",
                "",
            )
        )
        days = route_days(shop.province, plan.dest_province)
        slow = 1 + (rng.random() < 0.06) * rng.uniform(1.5, 2.5)
        arrived = left_hub + DAY * days * slow * rng.uniform(0.55, 0.95)
        dest_hub = f"{plan.dest_city}转运中心"
        if plan.fate == "stalled":
            # Picked up and on the way, then silence: the stagnation rule's parcel.
            if rng.random() < 0.5:
                middle = left_hub + HOUR * rng.uniform(6, 16)
                add((middle, EventCode.IN_TRANSIT, "中转场", "快件在中转场操作中转", ""))
            return
        # Every hub on the way scans the parcel: a long route is not a stalled one.
        stop = left_hub + HOUR * rng.uniform(10, 20)
        while stop < arrived - 6 * HOUR:
            hub = rng.choice(TRANSIT_HUBS)
            add((stop, EventCode.IN_TRANSIT, hub, f"快件已到达【{hub}】，正在分拣", ""))
            stop += HOUR * rng.uniform(10, 22)
        add((arrived, EventCode.IN_TRANSIT, dest_hub, f"快件已到达【{dest_hub}】", ""))
        station = f"{plan.dest_city}{rng.choice(['城东', '城西', '高新区', '开发区', '中心'])}营业部"
        out = next_slot(arrived + HOUR * 2, 7.5, 10, rng)
        add((out, EventCode.OUT_FOR_DELIVERY, station, f"【{station}】快递员正在派件，请保持电话畅通", ""))
        if plan.fate == "not_delivered":
            return
        if plan.fate == "exception":
            add(
                (
                    out + HOUR * rng.uniform(2, 6),
                    EventCode.EXCEPTION,
                    station,
                    "收件人电话无人接听，地址不详，待联系",
                    "",
                )
            )
            return
        if rng.random() < 0.05:
            out2 = out + HOUR * rng.uniform(2, 5)
            add((out2, EventCode.FAILED_ATTEMPT, station, "收件人不在，已预约再次派送", ""))
            out = out2 + DAY * 0.8
        delivered = out + HOUR * rng.uniform(1, 7)
        signer = rng.choice(["本人签收", "快递柜签收（丰巢）", "菜鸟驿站代收", "门卫代收"])
        add((delivered, EventCode.DELIVERED, station, f"已签收，签收人：{signer}", ""))

    def plan_lazada(self, plan: ParcelPlan) -> None:
        rng = self.rng
        plan.shipped_at = plan.paid_at + HOUR * rng.uniform(0.2, 3)
        if plan.fate == "cancelled":
            plan.shipped_at = None
            plan.cancelled_at = plan.paid_at + HOUR * rng.uniform(0.5, 5)
            return
        if plan.fate == "no_rts":
            return
        paid_day = plan.paid_at.astimezone(SHANGHAI).date()
        if plan.fate == "late_rts":
            plan.rts_at = local(paid_day + datetime.timedelta(days=3), rng.uniform(9, 14))
        else:
            plan.rts_at = plan.shipped_at + HOUR * rng.uniform(1, 20)

    def plan_bags(self) -> None:
        """Lazada: one bagging round a day at 15:00, bags of at most 40 parcels, pickup 16:00-18:00."""
        rng = self.rng
        ready = sorted((p for p in self.parcels if p.rts_at is not None), key=lambda p: p.rts_at)
        rounds = []
        day = self.start.astimezone(SHANGHAI).date()
        # The last daily round is at least 12 h old, so the round "now" always has parcels to bag and book.
        while local(day, 15) < self.now - 12 * HOUR:
            rounds.append(local(day, 15))
            day += datetime.timedelta(days=1)
        last_round = self.now - HOUR * 0.5
        rounds.append(last_round)
        waiting = list(ready)
        index = -1
        for round_at in rounds:
            taken = [p for p in waiting if p.rts_at <= round_at]
            waiting = [p for p in waiting if p.rts_at > round_at]
            if not taken:
                continue
            index += 1  # the rounds that had parcels to bag
            chunks = fill_bags(taken)
            is_last = round_at == last_round
            if (index == 2 or is_last) and chunks and len(chunks[-1]) > 8:
                # A small bag of its own: lost by the carrier (third day) or still open (now).
                chunks.append(chunks[-1][-6:])
                chunks[-2] = chunks[-2][:-6]
            # One sheet per round: the agent takes all its bags at once.
            round_pickup_at = round_at + HOUR * rng.uniform(1.5, 2.8)
            for number, chunk in enumerate(chunks):
                last_chunk = number == len(chunks) - 1 and len(chunks) > 1
                bag = BagPlan(
                    at=round_at,
                    parcels=chunk,
                    pickup_at=None if is_last else round_pickup_at,
                    lost=index == 2 and last_chunk,
                    cancelled_first=index == 3 and number == 0,
                    sealed=not (is_last and last_chunk),  # the last one is still being filled
                )
                self.bags.append(bag)
        # Parcels RTS'd after the last round stay loose, waiting for tomorrow's bag.
        for bag in self.bags:
            if bag.pickup_at is None or bag.lost:
                continue
            for plan in bag.parcels:
                self.plan_cross_border_events(plan, bag.pickup_at)

    def plan_cross_border_events(self, plan: ParcelPlan, pickup_at: datetime.datetime) -> None:
        rng = self.rng
        centre = plan.shop.hub
        inbound = pickup_at + HOUR * (rng.uniform(30, 60) if rng.random() < 0.04 else rng.uniform(3, 10))
        add = plan.events.append
        add((inbound, EventCode.ARRIVED_SORTING_CENTRE, centre, f"包裹已到达【{centre}】并完成入库扫描", "SZ-BA-FY"))
        left = inbound + HOUR * rng.uniform(12, 30)
        add((left, EventCode.IN_TRANSIT, centre, f"包裹已出库，发往 {plan.dest_city}", ""))
        landed = left + HOUR * rng.uniform(20, 40)
        add(
            (
                landed,
                EventCode.IN_TRANSIT,
                f"{plan.dest_city} hub",
                "Arrived at destination country hub / 已到达目的国转运中心",
                "",
            )
        )
        out = landed + HOUR * rng.uniform(10, 30)
        add((out, EventCode.OUT_FOR_DELIVERY, f"{plan.dest_city} LEX hub", "Out for delivery / 派送中", ""))
        add((out + HOUR * rng.uniform(2, 8), EventCode.DELIVERED, plan.dest_city, "Delivered / 已签收", ""))


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


def route_days(origin: str, dest: str) -> int:
    if origin == dest:
        return 1
    if dest in FAR:
        return FAR[dest]
    if origin == "广东省" and dest in ("广西壮族自治区", "福建省", "湖南省", "江西省"):
        return 2
    return NEAR.get(dest, 3)


# ---------------------------------------------------------------------------------------------- the command


class Command(BaseCommand):
    help = (
        "Fill an empty database with a realistic week of three shops (Tmall, Taobao, Lazada): about 2,000 "
        "orders, their parcels and tracking events, bags, handover sheets, alerts, tickets, and the users "
        "admin, clerk and manager (password from DEMO_ADMIN_PASSWORD, or generated and printed once)."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        if Shop.objects.filter(code__in=DEMO_SHOP_CODES).exists():
            self.stdout.write(f"Demo data is already there (shops {', '.join(DEMO_SHOP_CODES)}); nothing to do.")
            return
        if Order.objects.exists():
            raise CommandError("The database already has orders: seed_demo only fills an empty database.")
        now = timezone.now().replace(second=0, microsecond=0)
        planner = Planner(now)
        planner.plan()
        # The services log every batch at INFO: too chatty for a seed that replays a week.
        quiet = [
            logging.getLogger(name) for name in ("fulfillment.services", "pickups.services", "monitoring.services")
        ]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.WARNING)
        try:
            self.seed(planner)
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)
        self.report(time.monotonic() - started)

    def seed(self, planner: Planner) -> None:
        with transaction.atomic():
            users = self.create_users()
            self.create_reference_data(planner.now)
            shops = self.create_shops()
            Replay(self, planner, shops, users).run()

    # -------------------------------------------------------------------------------- users and reference data

    def create_users(self) -> dict:
        User = get_user_model()
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or None
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(12)
        created = []
        users = {}
        for username, group, superuser in (
            ("admin", None, True),
            ("clerk", "Warehouse", False),
            ("manager", "Managers", False),
        ):
            user, was_created = User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "is_superuser": superuser}
            )
            if was_created:
                user.set_password(password)
                user.first_name = {"admin": "Admin", "clerk": "仓库", "manager": "主管"}[username]
                user.save()
                created.append(username)
            if group:
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        if created:
            if generated:
                self.stdout.write(
                    self.style.WARNING(
                        f"Users {', '.join(created)} created with the generated password {password} "
                        "(shown once; set DEMO_ADMIN_PASSWORD to choose it)."
                    )
                )
            else:
                self.stdout.write(f"Users {', '.join(created)} created with the password from DEMO_ADMIN_PASSWORD.")
        return users

    def create_reference_data(self, now: datetime.datetime) -> None:
        Carrier.objects.bulk_create(
            [Carrier(code=code, name=name) for code, (name, _p, _d) in CARRIERS.items()], ignore_conflicts=True
        )
        carriers = {c.code: c for c in Carrier.objects.filter(code__in=CARRIERS)}
        rating_month = (now.astimezone(SHANGHAI).date().replace(day=1) - DAY).replace(day=1)
        CarrierOutlet.objects.bulk_create(
            [
                CarrierOutlet(
                    carrier=carriers[carrier],
                    code=code,
                    name=name,
                    province=province,
                    city=city,
                    star_rating=stars,
                    rating_month=rating_month,
                )
                for carrier, code, name, province, city, stars in OUTLETS
            ],
            ignore_conflicts=True,
        )
        Region.objects.bulk_create(
            [Region(province=p, city="", is_remote=True) for p in REMOTE_PROVINCES]
            + [Region(province=p, city=c, is_remote=True) for p, c in REMOTE_CITIES]
            + [Region(province=p, city=c, is_remote=False) for p, c in NOT_REMOTE],
            ignore_conflicts=True,
        )
        RouteStandard.objects.bulk_create(
            [
                RouteStandard(origin_province=origin, dest_province=province, days=route_days(origin, province))
                for origin in ("浙江省", "广东省")
                for province, _cities, _w in DESTINATIONS
            ],
            ignore_conflicts=True,
        )
        PickupCoverage.objects.bulk_create(
            [PickupCoverage(province=p, city=c) for p, c in COVERAGE], ignore_conflicts=True
        )
        years = sorted({(now - WEEK).astimezone(SHANGHAI).year, now.astimezone(SHANGHAI).year})
        for year in years:
            try:
                call_command("import_holidays", year=year, stdout=io.StringIO())
            except (CommandError, SystemExit) as error:
                self.stderr.write(f"Holidays of {year} not imported: {error}")

    def create_shops(self) -> dict[str, Shop]:
        Shop.objects.bulk_create(
            [
                Shop(
                    code=s.code,
                    name=s.name,
                    platform=s.platform,
                    seller_tier=s.seller_tier,
                    pickup_address=s.address,
                    pickup_province=s.province,
                    pickup_city=s.city,
                )
                for s in SHOPS
            ]
        )
        return {s.code: s for s in Shop.objects.filter(code__in=DEMO_SHOP_CODES)}

    def report(self, seconds: float) -> None:
        from django.apps import apps

        lines = []
        for label in (
            "fulfillment.Shop",
            "fulfillment.Order",
            "fulfillment.Parcel",
            "fulfillment.TrackingEvent",
            "fulfillment.Region",
            "fulfillment.Holiday",
            "monitoring.RouteStandard",
            "pickups.PickupCoverage",
            "pickups.ConsolidationBag",
            "pickups.HandoverSheet",
            "monitoring.Alert",
            "monitoring.StagnationTicket",
            "monitoring.Complaint",
        ):
            model = apps.get_model(label)
            lines.append(f"{model._meta.verbose_name_plural}: {model._default_manager.count()}")
        self.stdout.write(f"Demo data created in {seconds:.1f} s — {'; '.join(lines)}")


class Replay:
    """Plays the planned week forward in steps, calling the services as the apps would."""

    def __init__(self, command: Command, planner: Planner, shops: dict[str, Shop], users: dict):
        self.command = command
        self.planner = planner
        self.shops = shops
        self.clerk = users["clerk"]
        self.manager = users["manager"]
        self.carriers = {c.code: c for c in Carrier.objects.all()}
        self.outlets = {o.code: o for o in CarrierOutlet.objects.all()}
        self.bag_objects: dict[int, ConsolidationBag] = {}
        self.scans = 0

    def run(self) -> None:
        planner = self.planner
        moment = planner.start
        paid = sorted(planner.parcels, key=lambda p: p.paid_at)
        events = sorted(
            ((event, plan) for plan in planner.parcels for event in plan.events), key=lambda item: item[0][0]
        )
        shipped = sorted((p for p in planner.parcels if p.shipped_at), key=lambda p: p.shipped_at)
        rts = sorted((p for p in planner.parcels if p.rts_at), key=lambda p: p.rts_at)
        cancelled = sorted((p for p in planner.parcels if p.cancelled_at), key=lambda p: p.cancelled_at)
        bags = sorted(planner.bags, key=lambda b: b.at)
        while moment < planner.now:
            until = min(moment + STEP, planner.now)
            changed: set[int] = set()
            paid, batch = take(paid, until, key=lambda p: p.paid_at)
            changed |= self.create_parcels(batch)
            shipped, batch = take(shipped, until, key=lambda p: p.shipped_at)
            changed |= self.upload_tracking_numbers(batch)
            rts, batch = take(rts, until, key=lambda p: p.rts_at)
            self.mark_ready(batch)
            cancelled, batch = take(cancelled, until, key=lambda p: p.cancelled_at)
            self.cancel(batch)
            bags, batch = take(bags, until, key=lambda b: b.at)
            self.bag_and_hand_over(batch)
            self.confirm_pickups(until)
            events, batch = take(events, until, key=lambda item: item[0][0])
            changed |= self.insert_events(batch)
            if changed:
                fulfillment_services.parcels_refresh_milestones(parcel_ids=sorted(changed), reason="seed_demo")
            self.tickets_and_complaints(moment, until)
            monitoring_services.scan(now=until)
            self.scans += 1
            moment = until

    # -------------------------------------------------------------------------------- orders and parcels

    def create_parcels(self, plans: list[ParcelPlan]) -> set[int]:
        if not plans:
            return set()
        orders = {}
        for plan in plans:
            if plan.order_id in orders:
                continue
            shop = self.shops[plan.shop.code]
            orders[plan.order_id] = Order(
                shop=shop,
                platform=shop.platform,
                seller_tier=shop.seller_tier,
                order_id=plan.order_id,
                paid_at=plan.paid_at,
                amount=sum((p.amount for p in plans if p.order_id == plan.order_id), Decimal("0")),
                origin_province=plan.shop.province,
                dest_province=plan.dest_province,
                dest_city=plan.dest_city,
            )
        Order.objects.bulk_create(orders.values())
        saved = dict(
            Order.objects.filter(
                order_id__in=list(orders), platform__in={o.platform for o in orders.values()}
            ).values_list("order_id", "pk")
        )
        parcels = [
            Parcel(
                order_id=saved[plan.order_id],
                shop=self.shops[plan.shop.code],
                platform=plan.shop.platform,
                paid_at=plan.paid_at,
                weight_kg=plan.weight,
                declared_value=plan.amount,
            )
            for plan in plans
        ]
        Parcel.objects.bulk_create(parcels)
        if any(p.pk is None for p in parcels):  # SQLite before 3.35 does not return ids
            ids = list(Parcel.objects.filter(order_id__in=saved.values()).order_by("pk").values_list("pk", flat=True))
            for parcel, pk in zip(parcels, ids, strict=True):
                parcel.pk = pk
        for plan, parcel in zip(plans, parcels, strict=True):
            plan.parcel_id = parcel.pk
        return {p.pk for p in parcels}

    def upload_tracking_numbers(self, plans: list[ParcelPlan]) -> set[int]:
        """What `import_orders` does when the tracking number arrives: the parcel is shipped."""
        if not plans:
            return set()
        parcels = [
            Parcel(
                pk=plan.parcel_id,
                carrier=self.carriers[plan.carrier],
                tracking_no=plan.tracking_no,
                shipped_at=plan.shipped_at,
                status=ParcelStatus.SHIPPED,
            )
            for plan in plans
        ]
        Parcel.objects.bulk_update(parcels, ["carrier", "tracking_no", "shipped_at", "status"], batch_size=500)
        return {plan.parcel_id for plan in plans}

    def mark_ready(self, plans: list[ParcelPlan]) -> None:
        """One call per local day of the step, at the latest RTS time of the group (never before it)."""
        by_day = defaultdict(list)
        for plan in plans:
            by_day[plan.rts_at.astimezone(SHANGHAI).date()].append(plan)
        for _day, group in sorted(by_day.items()):
            fulfillment_services.parcels_mark_ready_to_ship(
                parcels=[plan.parcel_id for plan in group], at=max(plan.rts_at for plan in group), by=self.clerk
            )

    def cancel(self, plans: list[ParcelPlan]) -> None:
        for plan in plans:
            parcel = Parcel.objects.get(pk=plan.parcel_id)
            fulfillment_services.parcel_cancel(parcel=parcel, by=self.clerk, reason="买家申请退款，订单已取消")
            Parcel.objects.filter(pk=plan.parcel_id).update(cancelled_at=plan.cancelled_at)

    # -------------------------------------------------------------------------------- bags and sheets

    def bag_and_hand_over(self, bags: list[BagPlan]) -> None:
        by_round = defaultdict(list)
        for bag_plan in bags:
            by_round[bag_plan.at].append(bag_plan)
        for round_at, round_bags in sorted(by_round.items()):
            shop = self.shops[round_bags[0].parcels[0].shop.code]
            sealed = []
            for bag_plan in round_bags:
                bag = pickup_services.bag_create(shop=shop, sorting_centre="SZ", by=self.clerk)
                results = pickup_services.bag_add_parcels(
                    bag=bag, tracking_numbers=[p.tracking_no for p in bag_plan.parcels], by=self.clerk
                )
                refused = [f"{r.tracking_no}: {r.message}" for r in results if not r.added]
                if refused:
                    self.command.stderr.write(f"Bag {bag.number} refused: {'; '.join(refused)}")
                if not bag_plan.sealed:
                    continue
                weight = sum((p.weight for p in bag_plan.parcels), Decimal("0.30"))
                ConsolidationBag.objects.filter(pk=bag.pk).update(
                    gross_weight_kg=weight.quantize(Decimal("0.01")),
                    length_cm=Decimal("70"),
                    width_cm=Decimal("50"),
                    height_cm=Decimal(min(55, 15 + len(bag_plan.parcels))),
                )
                bag = pickup_services.bag_seal(bag=bag, by=self.clerk)
                self.bag_objects[id(bag_plan)] = bag
                sealed.append((bag_plan, bag))
            if not sealed:
                continue
            window = (round_at + HOUR, round_at + 3 * HOUR)
            sheet_args = {
                "shop": shop,
                "carrier": self.carriers["LEX"],
                "pickup_address": shop.pickup_address,
                "pickup_province": shop.pickup_province,
                "pickup_city": shop.pickup_city,
                "window_start": window[0],
                "window_end": window[1],
                "by": self.clerk,
            }
            bags_on_sheet = [bag for _plan, bag in sealed]
            if any(plan.cancelled_first for plan, _bag in sealed):
                first = pickup_services.handover_sheet_create(bags=bags_on_sheet, **sheet_args)
                pickup_services.handover_sheet_book(sheet=first, by=self.clerk)
                pickup_services.handover_sheet_cancel(sheet=first, by=self.clerk, reason="揽收员临时改约，改派下一班车")
                bags_on_sheet = list(ConsolidationBag.objects.filter(pk__in=[b.pk for b in bags_on_sheet]))
            sheet = pickup_services.handover_sheet_create(bags=bags_on_sheet, **sheet_args)
            pickup_services.handover_sheet_book(sheet=sheet, by=self.clerk)
            for plan, _bag in sealed:
                plan.sheet = sheet

    def confirm_pickups(self, until: datetime.datetime) -> None:
        due = defaultdict(list)
        for plan in self.planner.bags:
            if plan.sheet is not None and plan.pickup_at is not None and plan.pickup_at <= until and not plan.done:
                due[plan.sheet.pk].append(plan)
        for _sheet_pk, plans in due.items():
            sheet = plans[0].sheet
            picked_up_at = min(p.pickup_at for p in plans)
            agent = AGENTS[sheet.pk % len(AGENTS)]
            pickup_services.handover_sheet_confirm_pickup(
                sheet=sheet, picked_up_at=picked_up_at, agent=agent, by=self.clerk
            )
            for plan in plans:
                plan.done = True
                if plan.lost:
                    pickup_services.bag_report_lost(bag=self.bag_objects[id(plan)], by=self.manager)

    # -------------------------------------------------------------------------------- events, tickets, complaints

    def insert_events(self, batch: list[tuple]) -> set[int]:
        if not batch:
            return set()
        Event.objects.bulk_create(
            [
                Event(
                    parcel_id=plan.parcel_id,
                    code=code,
                    occurred_at=occurred_at,
                    location=location,
                    description=description,
                    outlet=self.outlets.get(outlet) if outlet else None,
                )
                for (occurred_at, code, location, description, outlet), plan in batch
            ],
            ignore_conflicts=True,
        )
        return {plan.parcel_id for _event, plan in batch}

    def tickets_and_complaints(self, since: datetime.datetime, until: datetime.datetime) -> None:
        """Two stagnation tickets (one answered, one waiting) and a false sign-off complaint, near the end."""
        now = self.planner.now
        if not (since < now - 20 * HOUR <= until):
            return
        stalled = sorted(
            (p for p in self.planner.parcels if p.fate == "stalled" and p.events and p.events[-1][0] < now - 3 * DAY),
            key=lambda p: p.events[-1][0],
        )
        opened_at = now - 20 * HOUR
        tickets = []
        for plan in stalled[:2]:
            policy = SlaPolicy.objects.filter(platform=plan.shop.platform, campaign_starts_at__isnull=True).first()
            warn = policy.ticket_warn_hours if policy else 16
            due = policy.ticket_response_hours if policy else 24
            tickets.append(
                StagnationTicket.objects.create(
                    parcel_id=plan.parcel_id,
                    opened_at=opened_at,
                    response_warn_at=opened_at + HOUR * warn,
                    response_due_at=opened_at + HOUR * due,
                )
            )
        if tickets:
            monitoring_services.ticket_answer(
                ticket=tickets[0],
                by=self.manager,
                response="已联系快递网点核实，包裹在中转场滞留，已要求加急转运，预计两日内派送。",
            )
        delivered = next(
            (
                p
                for p in self.planner.parcels
                if p.events
                and p.events[-1][1] == EventCode.DELIVERED
                and p.events[-1][0] < opened_at
                and p.shop.platform != "lazada"
            ),
            None,
        )
        if delivered is not None:
            Complaint.objects.create(
                parcel_id=delivered.parcel_id,
                kind="false_signoff",
                opened_at=opened_at,
                note="买家反映未收到包裹，但物流显示已签收（快递柜）。",
            )


def take(items: list, until: datetime.datetime, *, key) -> tuple[list, list]:
    """Split a list sorted by `key` (a time) into (later than `until`, due by `until`)."""
    index = 0
    while index < len(items) and key(items[index]) <= until:
        index += 1
    return items[index:], items[:index]
