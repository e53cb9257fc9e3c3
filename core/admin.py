"""Admin helpers shared by every app: the big-table list (exact/prefix search, estimated count),
shop-time display, and running a service on each selected row with a report of what was done, what was
skipped and why (CONVENTIONS.md "Admin": actions call a service and say how many rows
changed and how many were skipped, and why)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import ngettext

from core.paginators import EstimatedCountPaginator
from core.timezones import shop_zone

MAX_SEARCH_TERMS = 200
SHOP_TIME_FORMAT = "Y-m-d H:i"


def messages_of(error: ValidationError) -> str:
    """A ValidationError's messages as one sentence line."""
    return " ".join(str(m) for m in error.messages)


def apply_each(rows: Iterable, service: Callable, *, label: Callable | None = None) -> tuple[int, list[str]]:
    """Call `service(row)` for each row (a queryset is taken in primary-key order; each call takes its
    own row lock); count the rows done and collect why the others were refused."""
    if hasattr(rows, "order_by"):
        rows = rows.order_by("pk")
    done, refused = 0, []
    for row in rows:
        try:
            service(row)
            done += 1
        except ValidationError as error:
            refused.append(f"{label(row)}: {messages_of(error)}" if label else messages_of(error))
    return done, refused


def report_applied(model_admin, request, *, refused: list[str], done_message: str, done: int | None = None) -> None:
    """The action's outcome: how many rows changed (`done_message`; a warning when `done` is 0), and
    how many were skipped and why."""
    model_admin.message_user(request, done_message, messages.WARNING if done == 0 else messages.SUCCESS)
    if refused:
        model_admin.message_user(
            request,
            ngettext("%(count)d skipped: %(why)s", "%(count)d skipped: %(why)s", len(refused))
            % {"count": len(refused), "why": " ".join(refused)},
            messages.WARNING,
        )


def in_shop_time(value: datetime.datetime | None, shop) -> str | None:
    """A UTC timestamp as the shop's clerks read it (DESIGN.md: shown in the shop's time zone)."""
    if value is None:
        return None
    return date_format(timezone.localtime(value, shop_zone(shop.timezone)), SHOP_TIME_FORMAT)


class ExactOrPrefixSearchMixin:
    """Search identifiers by exact value or prefix on indexed columns, never `%term%`.

    Django's `=field` / `^field` compare `UPPER(column)`, which no index serves on PostgreSQL; here
    the term is compared as typed and upper-cased (tracking numbers and order ids are upper case).
    Several identifiers pasted at once, separated by spaces or commas, are all found.
    """

    exact_search_fields: tuple[str, ...] = ()
    prefix_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        terms = [t for t in search_term.replace(",", " ").split() if t][:MAX_SEARCH_TERMS]
        if not terms:
            return queryset, False
        condition = Q()
        variants = sorted({v for term in terms for v in (term, term.upper())})
        for field in self.exact_search_fields:
            condition |= self._exact_condition(queryset.model, field, variants)
        if len(terms) == 1:
            for field in self.prefix_search_fields:
                for variant in {terms[0], terms[0].upper()}:
                    condition |= Q(**{f"{field}__startswith": variant})
        return queryset.filter(condition), False

    @staticmethod
    def _exact_condition(model, field: str, variants: list[str]) -> Q:
        """`field IN variants`; across a relation, the related keys are looked up first (one small query)
        so that the OR of conditions stays a union of index scans instead of a join over both tables."""
        if "__" not in field:
            return Q(**{f"{field}__in": variants})
        relation, rest = field.split("__", 1)
        related = model._meta.get_field(relation).related_model
        keys = list(related._default_manager.filter(**{f"{rest}__in": variants}).values_list("pk", flat=True)[:1000])
        return Q(**{f"{relation}__in": keys})


class ShopTimeZoneMixin:
    """Render the change page in the time zone of the row's shop (every date and time on it, inlines too)."""

    shop_timezone_lookup = "shop__timezone"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            rows = self.model._default_manager.filter(pk=object_id)
            zone_name = rows.values_list(self.shop_timezone_lookup, flat=True).first()
        except (ValueError, ValidationError):
            zone_name = None  # not a key: the admin answers "does not exist" itself
        with timezone.override(shop_zone(zone_name or settings.TIME_ZONE)):
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response


class BigTableAdmin(ExactOrPrefixSearchMixin, admin.ModelAdmin):
    """Millions of rows: estimated count when unfiltered, no full count, no facet counts."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


class EditedFieldsOnlyMixin:
    """Saving a change form writes only the fields the form changed, on the row locked first.

    `obj.save()` would write every column as the form read it: a milestone an import wrote meanwhile
    (a pickup, say) would be put back to its old value for good, and a re-run of the import would call
    it "unchanged". The row is locked, then only the edited columns are updated.
    """

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        fields = [name for name in form.changed_data if name in {f.name for f in obj._meta.concrete_fields}]
        with transaction.atomic():
            type(obj)._default_manager.select_for_update().filter(pk=obj.pk).first()
            if fields:
                obj.save(update_fields=fields + [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)])
        return None
