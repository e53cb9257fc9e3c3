"""Every rule of DESIGN.md's table at its thresholds: one second before and after warning and due."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fulfillment.models import Parcel
from fulfillment.tests.factories import OrderFactory, ParcelFactory, RegionFactory, ShopFactory
from monitoring.deadlines import recompute_deadlines
from monitoring.models import Alert, AlertKind
from monitoring.rules import RULES
from monitoring.services import scan
from monitoring.tests.factories import ComplaintFactory, RouteStandardFactory, StagnationTicketFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
S = datetime.timedelta(seconds=1)
H = datetime.timedelta(hours=1)
PAID = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # a Monday


def order(platform="tmall", tier="mall", paid_at=PAID, **kw):
    shop = ShopFactory(code=f"{platform}-{tier}", platform=platform, seller_tier=tier)
    return OrderFactory(shop=shop, paid_at=paid_at, amount=Decimal("200.00"), **kw)


def unshipped(**kw):
    return ParcelFactory(order=order(**kw))


def shipped_618():
    return ParcelFactory(
        order=order("taobao", "marketplace", paid_at=datetime.datetime(2022, 6, 1, 10, tzinfo=SH)), shipped=True
    )


def shipped():
    return ParcelFactory(order=order(), shipped=True)


def picked_up(**order_kw):
    return ParcelFactory(order=order(**order_kw), picked_up=True)


def out_for_delivery():
    p = picked_up()
    p.out_for_delivery_at = p.last_event_at = datetime.datetime(2026, 3, 3, 9, 30, tzinfo=SH)
    p.status = "out_for_delivery"
    p.save()
    return p


def routed():
    RouteStandardFactory(origin_province="浙江省", dest_province="广东省", days=2)
    return picked_up()


def ticketed():
    p = picked_up()
    StagnationTicketFactory(parcel=p, opened_at=PAID + 30 * H)
    return p


def complained():
    p = picked_up()
    ComplaintFactory(parcel=p, opened_at=PAID + 30 * H)
    return p


def lazada():
    return ParcelFactory(order=order("lazada", "marketplace"))


def accepted_by_the_warehouse():
    """Not shipped; the warehouse accepted the order an hour after payment (a warehouse node)."""
    return ParcelFactory(order=order(), accepted_at=PAID + H)


@dataclass
class Case:
    kind: str
    make: object
    warn: datetime.datetime | None
    due: datetime.datetime
    warning_only: bool = False


PICKUP = PAID + 6 * H  # the factory's picked_up_at and last_event_at
CASES = [
    Case(AlertKind.SHIP_OVERDUE, unshipped, None, PAID + 24 * H),
    Case(AlertKind.SHIP_OVERDUE, shipped_618, None, datetime.datetime(2022, 6, 3, 10, tzinfo=SH)),
    Case(AlertKind.PICKUP_OVERDUE, shipped, PAID + 40 * H, PAID + 48 * H),
    Case(AlertKind.UPDATE_OVERDUE, picked_up, PICKUP + 16 * H, PICKUP + 24 * H),
    Case(AlertKind.DELIVERY_OVERDUE, out_for_delivery, None, datetime.datetime(2026, 3, 4, 20, tzinfo=SH)),
    Case(AlertKind.ROUTE_OVERDUE, routed, None, PICKUP + 5 * 24 * H),
    Case(AlertKind.STAGNATION, picked_up, PICKUP + 64 * H, PICKUP + 72 * H),
    Case(AlertKind.TICKET_RESPONSE_OVERDUE, ticketed, PAID + 46 * H, PAID + 54 * H),
    Case(AlertKind.LAZADA_SHIP_OVERDUE, lazada, None, datetime.datetime(2026, 3, 4, 23, 59, 59, tzinfo=SH)),
    Case(AlertKind.LAZADA_SORTING_OVERDUE, lazada, None, datetime.datetime(2026, 3, 7, 23, 59, 59, tzinfo=SH)),
    Case(AlertKind.FALSE_SIGNOFF, complained, None, PAID + 30 * H),
    # Not packed 8 h before the 24 h ship deadline: a warning, and never more.
    Case(AlertKind.SHIP_AT_RISK, accepted_by_the_warehouse, PAID + 16 * H, PAID + 24 * H, warning_only=True),
]


def level_at(parcel: Parcel, kind: str, now: datetime.datetime) -> str | None:
    scan(now=now)
    alert = Alert.objects.filter(parcel=parcel, kind=kind, resolved_at__isnull=True).first()
    return alert.level if alert else None


def test_every_rule_has_a_case():
    assert {c.kind for c in CASES} == {r.kind for r in RULES}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}-{c.make.__name__}" for c in CASES])
def test_thresholds(case):
    parcel = case.make()
    recompute_deadlines(parcel_ids=[parcel.pk])
    first = case.warn or case.due
    assert level_at(parcel, case.kind, first - S) is None
    assert level_at(parcel, case.kind, first) is None  # "once now > warn_at": strictly later
    if case.warn:
        assert level_at(parcel, case.kind, case.warn + S) == "warning"
        assert level_at(parcel, case.kind, case.due - S) == "warning"
    assert level_at(parcel, case.kind, case.due) == ("warning" if case.warn else None)
    assert level_at(parcel, case.kind, case.due + S) == ("warning" if case.warning_only else "overdue")
    alert = Alert.objects.get(parcel=parcel, kind=case.kind)  # one row: upgraded in place
    assert alert.due_at == case.due
    assert alert.raised_at == (case.warn + S if case.warn else case.due + S)
    assert alert.escalated_at == (None if case.warning_only else case.due + S)


def test_618_shipping_stops_only_with_a_pickup():
    parcel = shipped_618()
    recompute_deadlines(parcel_ids=[parcel.pk])
    due = datetime.datetime(2022, 6, 3, 10, tzinfo=SH)
    assert level_at(parcel, AlertKind.SHIP_OVERDUE, due + S) == "overdue"  # shipped_at is set, yet overdue
    Parcel.objects.filter(pk=parcel.pk).update(picked_up_at=due + H, status="picked_up")
    assert level_at(parcel, AlertKind.SHIP_OVERDUE, due + 2 * H) is None
    assert Alert.objects.get(parcel=parcel, kind=AlertKind.SHIP_OVERDUE).resolved_at == due + 2 * H


def test_ordinary_shipping_stops_with_the_tracking_number():
    parcel = shipped()
    recompute_deadlines(parcel_ids=[parcel.pk])
    assert level_at(parcel, AlertKind.SHIP_OVERDUE, PAID + 25 * H) is None


def test_remote_destination_stagnates_after_96_hours():
    RegionFactory(province="西藏自治区", city="", is_remote=True)
    parcel = picked_up(dest_province="西藏自治区", dest_city="拉萨市")
    recompute_deadlines(parcel_ids=[parcel.pk])
    assert level_at(parcel, AlertKind.STAGNATION, PICKUP + 72 * H + S) is None
    assert level_at(parcel, AlertKind.STAGNATION, PICKUP + 88 * H + S) == "warning"
    assert level_at(parcel, AlertKind.STAGNATION, PICKUP + 96 * H + S) == "overdue"


@pytest.mark.parametrize(
    ("platform", "tier", "columns", "kinds_absent"),
    [
        ("lazada", "mall", ("pickup_warn_at", "pickup_due_at"), [AlertKind.PICKUP_OVERDUE]),
        ("lazada", "mall", ("delivery_due_at",), [AlertKind.DELIVERY_OVERDUE]),
        ("tmall", "mall", ("sorting_due_at",), [AlertKind.LAZADA_SORTING_OVERDUE]),
        ("tmall", "mall", ("ship_due_at",), [AlertKind.LAZADA_SHIP_OVERDUE]),
    ],
)
def test_only_the_platforms_rules_apply(platform, tier, columns, kinds_absent):
    """A deadline column filled by hand for the wrong platform raises nothing."""
    parcel = ParcelFactory(order=order(platform, tier), status="paid")
    Parcel.objects.filter(pk=parcel.pk).update(**dict.fromkeys(columns, PAID + H))
    scan(now=PAID + 10 * H)
    assert not Alert.objects.filter(parcel=parcel, kind__in=kinds_absent).exists()
    # The same columns on a parcel of the right platform do raise: the test can fail.
    other = ParcelFactory(order=order("tmall" if platform == "lazada" else "lazada", tier), status="paid")
    Parcel.objects.filter(pk=other.pk).update(**dict.fromkeys(columns, PAID + H))
    scan(now=PAID + 10 * H)
    assert Alert.objects.filter(parcel=other, kind__in=kinds_absent).exists()


def test_lazada_mall_across_national_day_and_the_make_up_saturday():
    """Ordered Wednesday 30 Sep 2026: RTS due end of Thu 8 Oct (1–7 Oct off), sorting centre end of the
    make-up Saturday 10 Oct (8, 9, 10 are the 1st–3rd working days)."""
    from fulfillment.tests.factories import HolidayFactory

    for day in range(1, 8):
        HolidayFactory(date=datetime.date(2026, 10, day), is_working_day=False)
    HolidayFactory(date=datetime.date(2026, 10, 10), is_working_day=True)
    parcel = ParcelFactory(order=order("lazada", "mall", paid_at=datetime.datetime(2026, 9, 30, 10, tzinfo=SH)))
    recompute_deadlines(parcel_ids=[parcel.pk])
    ship_due = datetime.datetime(2026, 10, 8, 23, 59, 59, tzinfo=SH)
    sorting_due = datetime.datetime(2026, 10, 10, 23, 59, 59, tzinfo=SH)
    assert (
        level_at(parcel, AlertKind.LAZADA_SHIP_OVERDUE, datetime.datetime(2026, 10, 2, 23, 59, 59, tzinfo=SH) + S)
        is None
    )
    assert level_at(parcel, AlertKind.LAZADA_SHIP_OVERDUE, ship_due) is None
    assert level_at(parcel, AlertKind.LAZADA_SHIP_OVERDUE, ship_due + S) == "overdue"
    assert level_at(parcel, AlertKind.LAZADA_SORTING_OVERDUE, sorting_due - S) is None
    assert level_at(parcel, AlertKind.LAZADA_SORTING_OVERDUE, sorting_due + S) == "overdue"
    # Ready to ship, then at the sorting centre: both alerts resolve, and stay as history.
    Parcel.objects.filter(pk=parcel.pk).update(rts_at=sorting_due, sorting_centre_at=sorting_due + H)
    scan(now=sorting_due + 2 * H)
    assert not Alert.objects.filter(parcel=parcel, resolved_at__isnull=True).exists()
    assert Alert.objects.filter(parcel=parcel).count() == 2
