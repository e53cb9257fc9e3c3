"""The history's system reasons are read in the reader's language (they used to stay in the language
of the page that wrote them); a clerk's own words stay as typed."""

import pytest
from django.utils import translation

from fulfillment.tests.factories import ShopFactory
from pickups import services
from pickups.models import Transition

pytestmark = pytest.mark.django_db


def test_a_system_reason_is_stored_as_a_code_and_read_in_each_language():
    with translation.override("en"):
        bag = services.bag_create(shop=ShopFactory(), sorting_centre="SZ", by=None)
    row = Transition.objects.get(bag=bag)
    assert (row.reason_code, row.reason) == ("bag_created", "Bag created")
    with translation.override("zh-hans"):
        chinese = row.reason_label
    with translation.override("en"):
        english = row.reason_label
    assert english == "Bag created" and chinese != english and chinese


def test_figures_are_kept_and_a_clerks_words_stay_as_typed():
    row = Transition.objects.create(
        bag=services.bag_create(shop=ShopFactory(), sorting_centre="SZ", by=None),
        from_status="sealed", to_status="handed_over", reason_code="put_on_sheet", reason_params={"sheet": "HS1"},
    )  # fmt: skip
    with translation.override("zh-hans"):
        assert "HS1" in row.reason_label and "Put on" not in row.reason_label
    typed = Transition(bag=row.bag, from_status="sealed", to_status="open", reason="封口破了，重新装袋")
    assert typed.reason_label == "封口破了，重新装袋"


def test_old_text_reasons_get_their_codes(django_db_blocker):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("pickups.migrations.0004_transition_reason_codes")
    bag = services.bag_create(shop=ShopFactory(), sorting_centre="SZ", by=None)
    Transition.objects.filter(bag=bag).update(reason_code="", reason="Bag created")
    old = Transition.objects.create(bag=bag, from_status="booked", to_status="picked_up", reason="Picked up by 王师傅")
    migration.codes_for_old_reasons(apps, None)
    old.refresh_from_db()
    assert (old.reason_code, old.reason_params) == ("picked_up_by", {"agent": "王师傅"})
    assert Transition.objects.get(bag=bag, to_status="open").reason_code == "bag_created"
