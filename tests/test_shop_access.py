"""A user limited to shops sees, exports and changes nothing of another shop, on every admin list and
page (fulfillment.access). The admins are read from the site's registry, so an admin registered later
is covered without editing this file."""

import pytest
from django.contrib import admin

from fulfillment.access import ShopLimitedAdminMixin, shop_lookup_of

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(
    ("model", "model_admin"),
    [(model, model_admin) for model, model_admin in REGISTERED if shop_lookup_of(model)],
    ids=lambda value: getattr(getattr(value, "_meta", None), "label", ""),
)
def test_every_admin_of_shop_data_is_limited_to_the_users_shops(model, model_admin):
    assert isinstance(model_admin, ShopLimitedAdminMixin), (
        f"{type(model_admin).__name__} shows {model._meta.label} rows of every shop: inherit ShopLimitedAdminMixin"
    )


def test_the_shared_reference_data_has_no_shop():
    shared = {model._meta.label for model, _admin in REGISTERED if not shop_lookup_of(model)}
    assert {"fulfillment.Region", "fulfillment.Holiday", "fulfillment.Carrier", "pickups.PickupCoverage"} <= shared
    assert "fulfillment.Parcel" not in shared and "monitoring.Alert" not in shared
