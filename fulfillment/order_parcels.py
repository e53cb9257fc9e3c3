"""Orders and their parcels as the platforms' order exports describe them (DESIGN.md, "Import formats").

Each row is one parcel of an order: a row without a tracking number stands for the order's one
untracked parcel; a later row for the same order with a tracking number fills that parcel in, or
adds a parcel when the order has none untracked. A row without a tracking number for an order
whose parcels all have one describes the state before they were filled in, so it changes nothing
(re-running a file stays a no-op). An unknown shop is created with the row's platform and tier,
an unknown carrier by its code. Parcels copy shop, platform and paid_at from their order;
`shipped_at` / `rts_at` set the milestones (a value already there is only replaced by a different
non-empty one) and the status (`shipped`, `ready_to_ship`) never moves backwards.

A batch of rows is worked in memory — `order_batch_load` (a handful of queries), then
`order_row_apply` per row, then `order_batch_save` (bulk writes of the orders; the parcels are
written by `fulfillment.parcel_state`, which then runs the derivation pipeline for their
deadlines) — so that a batch costs the same few queries whatever its size.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from fulfillment import parcel_state
from fulfillment.models import Carrier, CarrierOutlet, Order, Parcel, Shop
from fulfillment.parcel_state import parcel_fill_in

# The order's own columns, copied from every row of the order.
ORDER_FIELDS = ("seller_tier", "paid_at", "amount", "origin_province", "dest_province", "dest_city")


class OrderParcelRow(Protocol):
    """One row of an order export: the order, and one of its parcels (tracking number optional)."""

    platform: str
    shop_code: str
    order_id: str
    paid_at: datetime.datetime
    amount: Decimal
    seller_tier: str
    origin_province: str
    dest_province: str
    dest_city: str
    carrier_code: str
    tracking_no: str
    shipped_at: datetime.datetime | None
    rts_at: datetime.datetime | None
    outlet_code: str  # the e-waybill outlet of the carrier, or ""


class RowOutcome(enum.Enum):
    INSERTED = "inserted"  # a new order or a new parcel
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class TrackingNumberTaken(Exception):
    """The row's tracking number already belongs to a parcel of another order; nothing was changed."""

    def __init__(self, *, order_id: str):
        super().__init__(order_id)
        self.order_id = order_id


@dataclass
class OrderBatch:
    """What one batch of rows may touch, loaded up front, and what its rows changed so far."""

    shops: dict[str, Shop]
    carriers: dict[str, Carrier]
    orders: dict[tuple[str, str], Order]  # by (platform, order_id)
    parcels_of: dict[int, list[Parcel]]  # stored parcels by order id
    by_tracking: dict[tuple[int, str], Parcel]  # by (carrier id, tracking number)
    new_orders: list[Order] = field(default_factory=list)
    dirty_orders: set[Order] = field(default_factory=set)
    new_parcels: list[Parcel] = field(default_factory=list)
    dirty_parcels: set[Parcel] = field(default_factory=set)
    new_parcels_of: dict[tuple[str, str], list[Parcel]] = field(default_factory=dict)  # by order key
    outlets: dict[tuple[int, str], CarrierOutlet] = field(default_factory=dict)  # by (carrier id, code)


def order_batch_load(*, rows: Sequence[OrderParcelRow]) -> OrderBatch:
    """Everything the batch may touch, in a handful of queries."""
    order_keys = {(r.platform, r.order_id) for r in rows}
    orders = {
        (o.platform, o.order_id): o
        for o in Order.objects.filter(order_id__in={key[1] for key in order_keys})
        if (o.platform, o.order_id) in order_keys
    }
    parcels_of: dict[int, list[Parcel]] = {}
    for parcel in Parcel.objects.filter(order__in=list(orders.values())):
        parcels_of.setdefault(parcel.order_id, []).append(parcel)
    tracking_numbers = {r.tracking_no for r in rows if r.tracking_no}
    outlet_codes = {r.outlet_code for r in rows if getattr(r, "outlet_code", "")}
    return OrderBatch(
        shops={s.code: s for s in Shop.objects.filter(code__in={r.shop_code for r in rows})},
        carriers={c.code: c for c in Carrier.objects.filter(code__in={r.carrier_code for r in rows if r.carrier_code})},
        orders=orders,
        parcels_of=parcels_of,
        by_tracking={
            (p.carrier_id, p.tracking_no): p
            for p in Parcel.objects.filter(tracking_no__in=tracking_numbers).select_related("order")
        },
        outlets={(o.carrier_id, o.code): o for o in CarrierOutlet.objects.filter(code__in=outlet_codes)}
        if outlet_codes
        else {},
    )


def order_row_apply(*, batch: OrderBatch, row: OrderParcelRow) -> RowOutcome:
    """Apply one row to the batch in memory: the order, then the parcel it describes.

    Raises `TrackingNumberTaken` before changing anything: a row is applied whole or refused.
    """
    key = (row.platform, row.order_id)
    order = batch.orders.get(key)
    carrier = _carrier(batch, row.carrier_code) if row.carrier_code else None
    if row.tracking_no:
        _check_tracking_number_free(batch, carrier=carrier, tracking_no=row.tracking_no, order=order)
    shop = _shop(batch, row)
    order, parcels_of_order, inserted, updated = _order_written(batch, row=row, key=key, order=order, shop=shop)
    if not row.tracking_no and parcels_of_order and all(p.tracking_no is not None for p in parcels_of_order):
        # Every parcel of the order has its tracking number: this row is their past.
        return _outcome(inserted, updated)
    parcel = _parcel_described(batch, row=row, carrier=carrier, parcels_of_order=parcels_of_order)
    if parcel is None:
        parcel = Parcel(order=order, shop=order.shop, platform=order.platform, paid_at=order.paid_at)
        batch.new_parcels.append(parcel)
        batch.new_parcels_of.setdefault(key, []).append(parcel)
        inserted = True
    outlet_code = getattr(row, "outlet_code", "")
    outlet = _outlet(batch, carrier, outlet_code) if carrier is not None and outlet_code else None
    if parcel_fill_in(
        parcel=parcel, carrier=carrier, tracking_no=row.tracking_no, shipped_at=row.shipped_at, rts_at=row.rts_at,
        outlet=outlet,
    ):
        updated = True
        if parcel.pk:
            batch.dirty_parcels.add(parcel)
    if row.tracking_no:
        batch.by_tracking[(carrier.pk, row.tracking_no)] = parcel
    return _outcome(inserted, updated)


def order_batch_save(*, batch: OrderBatch) -> list[int]:
    """Write the batch's new and changed orders, then hand its parcels to the parcel-state owner."""
    Order.objects.bulk_create(batch.new_orders)
    Order.objects.bulk_update(batch.dirty_orders, [*ORDER_FIELDS, "shop"])
    for parcel in batch.new_parcels:
        parcel.order = parcel.order  # picks up the order's new primary key
        parcel.shop = parcel.order.shop
    return parcel_state.parcels_save_order_rows(new=batch.new_parcels, changed=list(batch.dirty_parcels))


def _outcome(inserted: bool, updated: bool) -> RowOutcome:
    if inserted:
        return RowOutcome.INSERTED
    return RowOutcome.UPDATED if updated else RowOutcome.UNCHANGED


def _carrier(batch: OrderBatch, code: str) -> Carrier:
    if code not in batch.carriers:
        batch.carriers[code], _created = Carrier.objects.get_or_create(code=code, defaults={"name": code})
    return batch.carriers[code]


def _outlet(batch: OrderBatch, carrier: Carrier, code: str) -> CarrierOutlet:
    """The carrier's outlet of that code, created (code only) when unknown, as `import_events` does."""
    key = (carrier.pk, code)
    if key not in batch.outlets:
        batch.outlets[key], _created = CarrierOutlet.objects.get_or_create(carrier=carrier, code=code)
    return batch.outlets[key]


def _shop(batch: OrderBatch, row: OrderParcelRow) -> Shop:
    shop = batch.shops.get(row.shop_code)
    if shop is None:
        shop, _created = Shop.objects.get_or_create(
            code=row.shop_code,
            defaults={"name": row.shop_code, "platform": row.platform, "seller_tier": row.seller_tier},
        )
        batch.shops[row.shop_code] = shop
    return shop


def _check_tracking_number_free(batch: OrderBatch, *, carrier: Carrier, tracking_no: str, order: Order | None) -> None:
    """Raise `TrackingNumberTaken` when the carrier's tracking number is a parcel of another order."""
    owner = batch.by_tracking.get((carrier.pk, tracking_no))
    if owner is None:
        return
    same_order = order is not None and (owner.order_id == order.pk if owner.pk else owner.order is order)
    if not same_order:
        raise TrackingNumberTaken(order_id=owner.order.order_id)


def _order_written(
    batch: OrderBatch, *, row: OrderParcelRow, key: tuple[str, str], order: Order | None, shop: Shop
) -> tuple[Order, list[Parcel], bool, bool]:
    """The row's order, created or brought up to date: (order, its parcels, inserted, updated)."""
    if order is None:
        values = {name: getattr(row, name) for name in ORDER_FIELDS}
        order = batch.orders[key] = Order(shop=shop, platform=row.platform, order_id=row.order_id, **values)
        batch.new_orders.append(order)
        return order, batch.new_parcels_of.setdefault(key, []), True, False
    changes = {name: getattr(row, name) for name in ORDER_FIELDS if getattr(order, name) != getattr(row, name)}
    if order.shop_id != shop.pk:
        changes["shop"] = shop
    for name, value in changes.items():
        setattr(order, name, value)
    if changes and order.pk:
        batch.dirty_orders.add(order)
    parcels_of_order = (batch.parcels_of.get(order.pk, []) if order.pk else []) + batch.new_parcels_of.get(key, [])
    if changes:  # the parcels copy shop and paid_at from their order
        for parcel in parcels_of_order:
            if (parcel.shop_id, parcel.paid_at) != (order.shop.pk, order.paid_at):
                parcel.shop, parcel.paid_at = order.shop, order.paid_at
                if parcel.pk:
                    batch.dirty_parcels.add(parcel)
    return order, parcels_of_order, False, bool(changes)


def _parcel_described(
    batch: OrderBatch, *, row: OrderParcelRow, carrier: Carrier | None, parcels_of_order: list[Parcel]
) -> Parcel | None:
    """The parcel the row describes: the one with its tracking number, else the order's first
    untracked parcel; None when the row adds a parcel."""
    if row.tracking_no:
        parcel = batch.by_tracking.get((carrier.pk, row.tracking_no))
        if parcel is not None:
            return parcel
    return next((p for p in parcels_of_order if p.tracking_no is None), None)
