"""The demo's world: three shops, their carriers and outlets, where buyers live, routes and coverage.

Plain constants and pure helpers (no database): the planner draws the week from them, and the
replay creates from them only what no importer or service sets (shop pickup details, carrier and
outlet names, outlet star ratings).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

SEED = 618
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)
WEEK = 7 * DAY
# The scan runs at these local hours (and once at the end), as Celery beat would (more often) in
# production; the clerk's rounds (mark ready to ship, cancel refunded orders) fall on three of them.
SCAN_HOURS = (2, 8, 14, 20)
CLERK_HOURS = (8, 14, 20)
BAG_PARCELS = 40
BAG_KG = Decimal("42")

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

# The outlets' contacts (the scorecard's "send this outlet its parcels"): name, phone, email. Email
# only, so that a demo send goes to the console email backend, never to a real robot.
OUTLET_CONTACTS = {
    "HZ-YH-CQ": ("王经理", "0571-8861 2301", "yuhang-cangqian@example.com"),
    "YW-CC": ("陈站长", "0579-8552 7710", "yiwu-choucheng@example.com"),
    "SZ-BA-FY": ("Li Wei", "0755-2760 4412", "lex-fuyong@example.com"),
}

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
# Inside the warehouse (DESIGN.md): the Tmall shop's warehouse sends its nodes (accepted, waybill
# printed, picked, packed); the Lazada shop has one day of unusual volume, with no campaign, three
# days before the week's last day: half of its orders are paid that day.
WAREHOUSE_NODES_SHOP = "tmall-hz-youpin"
WAREHOUSE_NAME = "优品杭州仓"
SPIKE_SHOP = "lazada-sz-crossborder"
SPIKE_DAYS_BACK = 3
SPIKE_SHARE = 0.5
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

ORIGIN_PROVINCES = ("浙江省", "广东省")
SHOPS_BY_CODE = {shop.code: shop for shop in SHOPS}
OUTLET_NAMES = {code: name for _carrier, code, name, *_rest in OUTLETS}


def local(day: datetime.date, hour: float) -> datetime.datetime:
    """`hour` hours after local midnight of `day` (Asia/Shanghai)."""
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(hours=hour)
    return naive.replace(tzinfo=SHANGHAI)


def next_slot(after: datetime.datetime, hour_from: float, hour_to: float, rng: random.Random) -> datetime.datetime:
    """The first daily time window (local) ending after `after`, at a random point inside it."""
    day = after.astimezone(SHANGHAI).date()
    for offset in range(3):
        start = local(day + datetime.timedelta(days=offset), hour_from)
        end = local(day + datetime.timedelta(days=offset), hour_to)
        if end > after:
            start = max(start, after)
            return start + (end - start) * rng.random()
    return after + DAY


def route_days(origin: str, dest: str) -> int:
    """Standard transit days between two provinces (before the 3-day grace of `route_overdue`)."""
    if origin == dest:
        return 1
    if dest in FAR:
        return FAR[dest]
    if origin == "广东省" and dest in ("广西壮族自治区", "福建省", "湖南省", "江西省"):
        return 2
    return NEAR.get(dest, 3)
