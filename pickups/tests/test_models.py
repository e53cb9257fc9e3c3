"""The sealing limits of a consolidation bag, at their exact boundaries."""

from decimal import Decimal

import pytest

from pickups.models import ConsolidationBag

D = Decimal


def bag(weight="10", length="60", width="40", height="40"):
    return ConsolidationBag(
        number="SZ1",
        gross_weight_kg=None if weight is None else D(weight),
        length_cm=None if length is None else D(length),
        width_cm=None if width is None else D(width),
        height_cm=None if height is None else D(height),
    )


def test_a_bag_within_every_limit_has_no_problem():
    assert bag().seal_problems(parcel_count=1) == []


@pytest.mark.parametrize(("count", "ok"), [(300, True), (301, False)])
def test_at_most_300_parcels(count, ok):
    problems = bag().seal_problems(parcel_count=count)
    assert (problems == []) is ok
    if not ok:
        assert "301" in str(problems[0]) and "300" in str(problems[0])


@pytest.mark.parametrize(("weight", "ok"), [("50", True), ("50.00", True), ("50.01", False)])
def test_at_most_50_kg(weight, ok):
    problems = bag(weight=weight).seal_problems(parcel_count=5)
    assert (problems == []) is ok
    if not ok:
        assert "50.01 kg" in str(problems[0])


@pytest.mark.parametrize(("side", "ok"), [("119.9", True), ("120", False)])
def test_longest_side_under_120_cm(side, ok):
    problems = bag(length=side, width="30", height="30").seal_problems(parcel_count=5)
    assert (problems == []) is ok
    if not ok:
        assert "120" in str(problems[0]) and "under" in str(problems[0])


@pytest.mark.parametrize(("height", "ok"), [("60", True), ("60.1", False)])
def test_three_sides_at_most_180_cm(height, ok):
    # 60 + 60 + 60 = 180 is allowed, 180.1 is not.
    problems = bag(length="60", width="60", height=height).seal_problems(parcel_count=5)
    assert (problems == []) is ok
    if not ok:
        assert "180.1" in str(problems[0])


def test_an_empty_bag_is_never_sealed():
    problems = bag().seal_problems(parcel_count=0)
    assert len(problems) == 1 and "empty" in str(problems[0])


def test_every_failed_check_is_named_at_once():
    problems = bag(weight="50.5", length="120", width="40", height="30").seal_problems(parcel_count=301)
    text = " ".join(str(p) for p in problems)
    assert len(problems) == 4
    for fragment in ("301 parcels", "50.5 kg", "longest side is 120", "190"):
        assert fragment in text


def test_a_bag_not_weighed_or_measured_is_refused():
    problems = bag(weight=None, height=None).seal_problems(parcel_count=3)
    text = " ".join(str(p) for p in problems)
    assert "weight" in text and "length, width and height" in text


def test_a_bag_lighter_than_its_parcels_is_refused_naming_both_figures():
    problems = bag(weight="2.00").seal_problems(parcel_count=10, parcels_weight_kg=D("10.45"))
    assert problems == [
        "The bag weighs 2.00 kg, less than its parcels' known weights (10.45 kg): weigh it again."
    ]
    assert bag(weight="10.45").seal_problems(parcel_count=10, parcels_weight_kg=D("10.45")) == []


@pytest.mark.parametrize(("weight", "length"), [("0", "60"), ("10", "-80"), ("10", "0")])
def test_zero_or_negative_figures_are_refused(weight, length):
    problems = bag(weight=weight, length=length).seal_problems(parcel_count=3)
    assert problems, "a side of -80 cm must not pass the L+W+H check"
    assert any("more than 0" in str(p) for p in problems)


@pytest.mark.django_db
def test_sealing_counts_the_parcels_known_weights(warehouse_user):
    from fulfillment.tests.factories import ShopFactory
    from pickups import services
    from pickups.tests.factories import parcels_for

    shop = ShopFactory(code="acme")
    new_bag = services.bag_create(shop=shop, sorting_centre="SZ", by=None)
    parcels = parcels_for(shop, 3, weight_kg=D("3.50"))
    services.bag_add_parcels(bag=new_bag, tracking_numbers=[p.tracking_no for p in parcels], by=None)
    new_bag.gross_weight_kg, new_bag.length_cm, new_bag.width_cm, new_bag.height_cm = D("2.00"), 60, 40, 40
    new_bag.save()

    with pytest.raises(services.TransitionNotAllowed, match=r"2\.00 kg, less than .*\(10\.5 kg\)"):
        services.bag_seal(bag=new_bag, by=warehouse_user)
