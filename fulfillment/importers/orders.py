"""`import_orders`: the platforms' order exports, one parcel per row (`fulfillment.order_parcels`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from fulfillment.access import shop_ids_for
from fulfillment.importing import (
    Importer,
    RowError,
    optional,
    parse_amount,
    parse_choice,
    parse_optional_time,
    parse_time,
    require,
)
from fulfillment.order_parcels import (
    RowOutcome,
    TrackingNumberTaken,
    order_batch_load,
    order_batch_save,
    order_row_apply,
)


@dataclass(slots=True)
class OrderRecord:
    line: int
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
    outlet_code: str = ""


class OrderImporter(Importer):
    """`platform,shop_code,order_id,paid_at,amount,seller_tier,origin_province,dest_province,dest_city,carrier_code,tracking_no,shipped_at,rts_at`
    and the optional `outlet_code` (the e-waybill outlet of the carrier, DESIGN.md "Indicators").

    Each row is one parcel of an order; how a row fills in or adds a parcel is
    `fulfillment.order_parcels` (DESIGN.md, "Import formats"). This importer validates the rows
    and counts and reports them; a row whose tracking number belongs to another order is
    rejected whole. After each batch the parcels written are announced with
    `parcels_changed(reason="orders")`, whose receiver recomputes their deadlines.
    """

    permission = "fulfillment.add_order"  # besides fulfillment.add_importrun, to upload such a file

    command = "import_orders"
    required_columns = (
        "platform", "shop_code", "order_id", "paid_at", "amount", "seller_tier", "origin_province",
        "dest_province", "dest_city", "carrier_code", "tracking_no", "shipped_at", "rts_at",
    )
    optional_columns = ("outlet_code",)  # the e-waybill outlet, when the export has it
    batch_size = 2000

    def __init__(self, **options):
        super().__init__(**options)
        from fulfillment.models import Platform, SellerTier

        self.platforms = frozenset(Platform.values)
        self.tiers = frozenset(SellerTier.values)
        self.shop_codes = _own_shop_codes(self.by)

    def clean_row(self, row, line):
        platform = parse_choice(row.get("platform", ""), "platform", self.platforms, label=_("platform"))
        shop_code = require(row, "shop_code", max_length=64)
        if self.shop_codes is not None and shop_code not in self.shop_codes:
            raise RowError("shop_code", _("is not one of your shops"))
        order_id = require(row, "order_id", max_length=64)
        paid_at = parse_time(row.get("paid_at", ""), "paid_at")
        amount = parse_amount(row.get("amount", ""), "amount")
        if amount >= Decimal("1e10"):
            raise RowError("amount", _("is too large"))
        seller_tier = parse_choice(row.get("seller_tier", ""), "seller_tier", self.tiers, label=_("seller tier"))
        carrier_code = optional(row, "carrier_code", max_length=32)
        tracking_no = optional(row, "tracking_no", max_length=64)
        shipped_at = parse_optional_time(row.get("shipped_at", ""), "shipped_at")
        rts_at = parse_optional_time(row.get("rts_at", ""), "rts_at")
        outlet_code = optional(row, "outlet_code", max_length=64)
        if tracking_no and not carrier_code:
            raise RowError("carrier_code", _("is required when a tracking number is given"))
        if outlet_code and not carrier_code:
            raise RowError("carrier_code", _("is required when a courier outlet is given"))
        if (shipped_at or rts_at) and not tracking_no:
            raise RowError("tracking_no", _("is required when the parcel is shipped or ready to ship"))
        for name, moment in (("shipped_at", shipped_at), ("rts_at", rts_at)):
            if moment is not None and moment < paid_at:
                raise RowError(name, _("is before the order was paid (%(paid_at)s)") % {"paid_at": row.get("paid_at")})
        return OrderRecord(
            line=line, platform=platform, shop_code=shop_code, order_id=order_id, paid_at=paid_at, amount=amount,
            seller_tier=seller_tier, origin_province=optional(row, "origin_province", max_length=64),
            dest_province=optional(row, "dest_province", max_length=64), dest_city=optional(row, "dest_city", max_length=64),
            carrier_code=carrier_code, tracking_no=tracking_no, shipped_at=shipped_at, rts_at=rts_at,
            outlet_code=outlet_code,
        )

    def apply_batch(self, records):
        batch = order_batch_load(rows=records)
        outcomes = {outcome: 0 for outcome in RowOutcome}
        for record in records:
            try:
                outcomes[order_row_apply(batch=batch, row=record)] += 1
            except TrackingNumberTaken as taken:
                self.reject(
                    record.line, "tracking_no",
                    _("tracking number %(tracking_no)s of %(carrier)s already belongs to order %(order)s")
                    % {"tracking_no": record.tracking_no, "carrier": record.carrier_code, "order": taken.order_id},
                )
        order_batch_save(batch=batch)
        return outcomes[RowOutcome.INSERTED], outcomes[RowOutcome.UPDATED], outcomes[RowOutcome.UNCHANGED]


def _own_shop_codes(user) -> frozenset[str] | None:
    """The codes of the shops a user limited to shops may import for (None: any, a new one included)."""
    from fulfillment.models import Shop

    ids = shop_ids_for(user)
    return None if ids is None else frozenset(Shop.objects.filter(pk__in=ids).values_list("code", flat=True))
