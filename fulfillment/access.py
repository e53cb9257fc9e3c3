"""Which shops a user may see and change: a user may be limited to shops, none = all.

Every list, page, action, export, dashboard, upload and API call asks here, so the rule is written
once:
- the system (commands, tasks: `user=None`), a superuser, and a staff user listed under no shop see
  every shop;
- a user listed under one or more shops (`Shop.members`) sees, exports and changes only those;
- an anonymous or inactive user sees none.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet

from .models import Shop

_CACHE = "_visible_shop_ids"


def shop_ids_for(user) -> frozenset[int] | None:
    """The ids of the shops `user` may see, or None for every shop (cached on the user object, which
    lives for one request)."""
    if user is None:
        return None
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    if not hasattr(user, _CACHE):
        ids = frozenset(Shop.members.through.objects.filter(user_id=user.pk).values_list("shop_id", flat=True))
        setattr(user, _CACHE, ids or None)
    return getattr(user, _CACHE)


def is_limited(user) -> bool:
    return shop_ids_for(user) is not None


def may_see_shop(user, shop_id: int | None) -> bool:
    ids = shop_ids_for(user)
    return ids is None or shop_id in ids


def shop_lookup_of(model: type[Model]) -> str | None:
    """The lookup from `model` to its shop: `pk` for a shop, `shop` for a row with a shop, `parcel__shop`
    or `bag__shop` or `sheet__shop` one relation further; None for shared reference data."""
    if model is Shop:
        return "pk"
    for path in ("shop", "parcel__shop", "bag__shop", "sheet__shop", "order__shop"):
        try:
            fields = get_fields_from_path(model, path)
        except (FieldDoesNotExist, AttributeError):
            continue
        if fields[-1].related_model is Shop:
            return path
    return None


def limit_to_shops(queryset: QuerySet, user, *, via: str | None = None) -> QuerySet:
    """`queryset` narrowed to the shops `user` may see; `via` is the lookup to the shop (found from the
    model when omitted). Shared reference data (no shop) is returned as is."""
    ids = shop_ids_for(user)
    if ids is None:
        return queryset
    via = via or shop_lookup_of(queryset.model)
    if via is None:
        return queryset
    return queryset.filter(**{f"{via}__in": sorted(ids)})


def visible_shops(user) -> QuerySet[Shop]:
    return limit_to_shops(Shop.objects.all(), user, via="pk")


class VisibleShopsListFilter(admin.RelatedFieldListFilter):
    """The admin's shop filter, offering only the shops the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(shop.pk, str(shop)) for shop in visible_shops(request.user).order_by("code")]


class ShopLimitedAdminMixin:
    """A model admin whose rows, choices and filters are narrowed to the user's shops.

    The change, delete and history pages and every action work on `get_queryset`, so a row of
    another shop is "not found" there as in the list; foreign-key choices (shops, parcels, bags,
    sheets) and the shop list filter offer only the user's shops.
    """

    shop_lookup: str | None = None  # found from the model when None

    def get_queryset(self, request):
        return limit_to_shops(super().get_queryset(request), request.user, via=self.shop_lookup)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset") and shop_lookup_of(db_field.related_model):
            formfield.queryset = limit_to_shops(formfield.queryset, request.user)
        return formfield

    def get_list_filter(self, request):
        return [self._visible_shops_filter(entry) for entry in super().get_list_filter(request)]

    def _visible_shops_filter(self, entry):
        if not isinstance(entry, str):
            return entry
        try:
            field = get_fields_from_path(self.model, entry)[-1]
        except (FieldDoesNotExist, AttributeError):
            return entry
        return (entry, VisibleShopsListFilter) if getattr(field, "related_model", None) is Shop else entry
