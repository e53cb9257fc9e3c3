"""The demo planner is pure: no database (these tests have no django_db access), same week for the same `now`."""

import datetime
from collections import defaultdict

import pytest

from backoffice.demo import records as r
from backoffice.demo.planner import plan_week

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# A Monday morning, a Saturday night, and a month's first day (the outlets' rating month changes).
NOWS = [
    datetime.datetime(2026, 6, 15, 10, 23, tzinfo=SHANGHAI),
    datetime.datetime(2026, 11, 28, 23, 41, tzinfo=SHANGHAI),
    datetime.datetime(2026, 9, 1, 0, 5, tzinfo=SHANGHAI),
]


@pytest.fixture(scope="module", params=NOWS, ids=lambda now: now.strftime("%a-%H%M"))
def plan(request):
    return plan_week(request.param)


def test_the_same_now_and_seed_give_the_same_week_and_another_seed_another():
    now = NOWS[0]
    assert plan_week(now) == plan_week(now)
    assert plan_week(now, seed=1).rows != plan_week(now).rows


def test_every_row_and_action_lies_inside_the_week_in_time_order(plan):
    instants = [row.at for row in plan.rows] + [action.at for action in plan.actions] + plan.scans
    assert all(plan.start <= at <= plan.now for at in instants)
    assert [row.at for row in plan.rows] == sorted(row.at for row in plan.rows)
    assert [action.at for action in plan.actions] == sorted(action.at for action in plan.actions)
    assert plan.scans == sorted(plan.scans) and plan.scans[-1] == plan.now


def test_the_rows_have_the_columns_of_their_import_and_pass_its_row_checks(plan):
    """What each importer's clean_row accepts (no database needed for that step)."""
    from fulfillment.importers import OrderImporter
    from monitoring.importers import TicketImporter

    for importer in (OrderImporter(), TicketImporter()):
        rows = plan.rows_of(importer.command)
        assert rows and all(set(row) == set(importer.required_columns) for row in rows)
        for line, row in enumerate(rows, start=1):
            importer.clean_row(row, line)
    events = plan.rows_of(r.EVENTS)
    assert len(events) > len(plan.rows_of(r.ORDERS))
    assert {tuple(sorted(row)) for row in events} == {
        ("carrier_code", "code", "description", "location", "occurred_at", "outlet_code", "tracking_no")
    }
    assert {row["kind"] for row in plan.rows_of(r.TICKETS)} == {"stagnation", "false_signoff"}
    assert {r.REGIONS, r.ROUTE_STANDARDS, r.COVERAGE} == set(plan.reference)


def test_each_parcel_moves_forward_paid_shipped_ready_sealed_booked_picked_up_then_carried(plan):
    paid, shipped, printed = {}, {}, {}
    for row in plan.rows_of(r.ORDERS):
        paid.setdefault(row["order_id"], datetime.datetime.fromisoformat(row["paid_at"]))
        if row["tracking_no"] and not row["shipped_at"]:
            printed[row["tracking_no"]] = paid[row["order_id"]]  # the e-waybill printed, not yet shipped
            continue
        if row["tracking_no"]:
            shipped[row["tracking_no"]] = datetime.datetime.fromisoformat(row["shipped_at"])
            assert paid[row["order_id"]] <= shipped[row["tracking_no"]]
    ready, sealed, booked, picked_up = {}, {}, {}, {}
    bag_of, bags_of_sheet = {}, {}
    for action in plan.actions:
        if isinstance(action, r.MarkReadyToShip):
            for number in action.tracking_numbers:
                assert shipped[number] <= action.at
                ready[number] = action.at
        elif isinstance(action, r.PackBag):
            for number in action.tracking_numbers:
                assert ready[number] <= action.at and number not in bag_of
                bag_of[number] = action.bag
        elif isinstance(action, r.SealBag):
            sealed[action.bag] = action.at
        elif isinstance(action, r.BookSheet):
            assert all(sealed[bag] <= action.at for bag in action.bags)
            booked[action.sheet], bags_of_sheet[action.sheet] = action.at, action.bags
        elif isinstance(action, r.ConfirmPickup):
            assert booked[action.sheet] <= action.at
            picked_up.update({bag: action.at for bag in bags_of_sheet[action.sheet]})
    events = defaultdict(list)
    for row in plan.rows_of(r.EVENTS):
        if row["code"].startswith("wh_"):  # the warehouse's nodes: after payment, before the upload
            at = datetime.datetime.fromisoformat(row["occurred_at"])
            assert printed[row["tracking_no"]] <= at <= shipped.get(row["tracking_no"], plan.now)
            continue
        events[row["tracking_no"]].append(datetime.datetime.fromisoformat(row["occurred_at"]))
        assert shipped[row["tracking_no"]] <= events[row["tracking_no"]][-1]
    for number, bag in bag_of.items():
        assert all(picked_up[bag] <= at for at in events[number]), number
        assert not events[number] or bag in picked_up


def test_the_week_shows_every_state_of_the_handover_workflow(plan):
    kinds = defaultdict(list)
    for action in plan.actions:
        kinds[type(action)].append(action)
    sealed = {action.bag for action in kinds[r.SealBag]}
    assert {action.bag for action in kinds[r.PackBag]} - sealed, "a bag still being filled"
    confirmed = {action.sheet for action in kinds[r.ConfirmPickup]}
    cancelled = {action.sheet for action in kinds[r.CancelSheet]}
    assert confirmed and cancelled and {action.sheet for action in kinds[r.BookSheet]} - confirmed - cancelled
    assert kinds[r.ReportBagLost] and kinds[r.CancelParcel] and kinds[r.AnswerTicket]
