"""`fulfillment.order_parcels`: how a row of an order export becomes an order and one of its parcels."""

import datetime

import pytest

from fulfillment.importers.orders import OrderRecord
from fulfillment.models import Order, Parcel, ParcelStatus
from fulfillment.order_parcels import (
    RowOutcome,
    TrackingNumberTaken,
    order_batch_load,
    order_batch_save,
    order_row_apply,
    parcel_fill_in,
)
from fulfillment.tests.factories import CarrierFactory, OrderFactory, ParcelFactory, ShopFactory
from fulfillment.tests.import_files import at

pytestmark = pytest.mark.django_db


def row(order_id="O1", *, tracking_no="", carrier_code="", shipped_at=None, rts_at=None, line=2, **fields):
    values = {
        "platform": "tmall", "shop_code": "s1", "paid_at": at("2026-03-02 10:00"), "amount": 10, "seller_tier": "mall",
        "origin_province": "", "dest_province": "", "dest_city": "", **fields,
    }  # fmt: skip
    return OrderRecord(
        line=line, order_id=order_id, carrier_code=carrier_code or ("YTO" if tracking_no else ""),
        tracking_no=tracking_no, shipped_at=shipped_at, rts_at=rts_at, **values,
    )  # fmt: skip


def apply(*rows):
    batch = order_batch_load(rows=rows)
    outcomes = [order_row_apply(batch=batch, row=r) for r in rows]
    order_batch_save(batch=batch)
    return outcomes


def test_a_row_without_tracking_number_is_the_orders_untracked_parcel_later_filled_in():
    outcomes = apply(row(), row(tracking_no="YT1", shipped_at=at("2026-03-02 11:00")))

    assert outcomes == [RowOutcome.INSERTED, RowOutcome.UPDATED]
    parcel = Parcel.objects.get()
    assert (parcel.tracking_no, parcel.status, parcel.order.order_id) == ("YT1", ParcelStatus.SHIPPED, "O1")


def test_a_row_without_tracking_number_for_an_order_whose_parcels_all_have_one_changes_nothing():
    apply(row(tracking_no="YT1"), row(tracking_no="YT2"))

    assert apply(row()) == [RowOutcome.UNCHANGED]
    assert sorted(Parcel.objects.values_list("tracking_no", flat=True)) == ["YT1", "YT2"]


def test_a_tracking_number_of_another_order_is_refused_before_anything_changes():
    shop = ShopFactory(code="s1")
    owner = OrderFactory(shop=shop, order_id="A")
    ParcelFactory(shipped=True, carrier=CarrierFactory(code="YTO"), tracking_no="TAKEN", order=owner)
    batch = order_batch_load(rows=[row("B", tracking_no="TAKEN")])

    with pytest.raises(TrackingNumberTaken) as taken:
        order_row_apply(batch=batch, row=row("B", tracking_no="TAKEN"))

    assert taken.value.order_id == "A"
    assert not batch.new_orders and not batch.new_parcels
    order_batch_save(batch=batch)
    assert not Order.objects.filter(order_id="B").exists()


def test_the_parcels_follow_their_orders_shop_and_payment_time():
    apply(row(tracking_no="YT1"))

    assert apply(row(tracking_no="YT1", paid_at=at("2026-03-02 09:00"), shop_code="s2")) == [RowOutcome.UPDATED]
    parcel = Parcel.objects.get()
    assert (parcel.shop.code, parcel.paid_at) == ("s2", at("2026-03-02 09:00"))


def test_fill_in_never_moves_the_status_backwards_and_says_when_nothing_changed():
    parcel = ParcelFactory(ready=True)
    carrier = parcel.carrier
    rts_at = parcel.rts_at

    changed = parcel_fill_in(
        parcel=parcel, carrier=carrier, tracking_no=parcel.tracking_no, shipped_at=parcel.shipped_at, rts_at=None
    )

    assert changed is False
    assert (parcel.status, parcel.rts_at) == (ParcelStatus.READY_TO_SHIP, rts_at)


def test_fill_in_sets_milestones_and_moves_the_status_forward():
    parcel = Parcel(status=ParcelStatus.PAID)
    shipped = datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC)

    changed = parcel_fill_in(parcel=parcel, carrier=None, tracking_no="YT9", shipped_at=shipped, rts_at=None)

    assert changed is True
    assert (parcel.tracking_no, parcel.shipped_at, parcel.status) == ("YT9", shipped, ParcelStatus.SHIPPED)
