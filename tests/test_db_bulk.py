"""`core.db.bulk`: a staging table loads the same rows on PostgreSQL (COPY) and SQLite (executemany)."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from core.db.bulk import (
    bulk_write_transaction_tune,
    column_name,
    staging_batch_prepare,
    staging_datetime,
    staging_session_prepare,
    staging_table_create,
    staging_table_load,
    table_name,
)
from fulfillment.models import ImportRun

pytestmark = pytest.mark.django_db

STAGE = "test_bulk_stage"
ROW = (("line", "integer"), ("note", "text"), ("at", "datetime"))
COLUMNS = (*ROW, ("run_id", "bigint"))


def load(rows):
    with connection.cursor() as cursor:
        bulk_write_transaction_tune(cursor)
        staging_table_load(cursor, name=STAGE, columns=ROW, rows=staging_batch_prepare(rows))


def staged():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT line, note, run_id FROM {STAGE} ORDER BY line")  # noqa: S608 — the test's own table
        return cursor.fetchall()


@pytest.fixture
def stage():
    staging_session_prepare()
    staging_table_create(name=STAGE, columns=COLUMNS)


def test_text_round_trips_and_an_empty_text_is_empty_not_null(stage):
    moment = staging_datetime()(timezone.now())
    notes = ['逗号, "引号"\n换行 \\ 反斜杠\t制表', ""]

    load([(1, notes[0], moment), (2, notes[1], moment)])

    assert staged() == [(1, notes[0], None), (2, "", None)]


def test_each_load_replaces_the_previous_batch(stage):
    moment = staging_datetime()(timezone.now())
    load([(1, "a", moment), (2, "b", moment)])
    load([(3, "c", moment)])

    assert staged() == [(3, "c", None)]


def test_a_staged_time_equals_the_same_time_stored_by_django(stage):
    """The set statements join staging rows with real ones: a time must compare equal on both databases."""
    moment = datetime.datetime(2026, 3, 2, 18, 30, 15, 250000, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    run = ImportRun.objects.create(command="test", source="x", finished_at=moment)
    load([(1, "x", staging_datetime()(moment))])

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {STAGE} SET run_id = r.{column_name(ImportRun, 'id')} FROM {table_name(ImportRun)} r "  # noqa: S608
            f"WHERE r.{column_name(ImportRun, 'finished_at')} = {STAGE}.at"
        )

    assert staged() == [(1, "x", run.pk)]
