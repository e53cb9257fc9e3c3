"""The project's own documentation: its example files import cleanly, and it points only inside the repository.

1. Every file of `docs/examples/` is imported with the real management commands, in the order that
   `docs/imports.md` gives (its "Loading the examples" block is parsed, so the page and this test
   cannot drift apart): each run must end with exit status 0 (no `CommandError`) and no rejected row,
   and the rows must be in the database. A second pass of the same files must change nothing.
   The pickup confirmation needs a booked handover sheet, which no import creates: the test books one
   through `pickups.services` first, as a clerk would in the admin, and gives it the example's number.
2. README.md and docs/*.md must not point outside the repository (`../…`, absolute paths) nor to a
   repository file that does not exist (relative markdown links and `path/like/this` code spans).
"""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# The sheet the example confirmation refers to, as the warehouse would have created and booked it.
EXAMPLE_SHEET_NUMBER = "HS261125000001"
SHEET_SHOP, SHEET_CARRIER, SHEET_PARCEL = "TM-HZ-01", "ZTO", "ZT7731000000103"


def documented_order() -> list[tuple[str, str]]:
    """(command, example file) pairs of the `manage.py import_… docs/examples/…` lines of imports.md, in order."""
    text = (DOCS / "imports.md").read_text(encoding="utf-8")
    section = text.split("## Loading the examples", 1)[1]
    return re.findall(r"manage\.py (import_\w+) docs/examples/(\S+)", section)


# --------------------------------------------------------------------------------------------- 1. the examples


def book_example_sheet():
    """Create and book, through the services, the handover sheet that pickup_confirmations.csv confirms."""
    from fulfillment.models import Carrier, Parcel, Shop
    from pickups import services
    from pickups.models import HandoverSheet

    shop = Shop.objects.get(code=SHEET_SHOP)
    booked_on = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI)
    with time_machine.travel(booked_on, tick=False):
        sheet = services.handover_sheet_create(
            shop=shop,
            carrier=Carrier.objects.get(code=SHEET_CARRIER),
            pickup_address="浙江省杭州市西湖区文三路 90 号 B 仓",
            pickup_province="浙江省",
            pickup_city="杭州市",
            window_start=booked_on.replace(hour=16),
            window_end=booked_on.replace(hour=18),
            parcels=[Parcel.objects.get(tracking_no=SHEET_PARCEL)],
            by=None,
        )
        services.handover_sheet_book(sheet=sheet, by=None)
    # Sheet numbers are generated (HS + date + id); the clerk reads it off the printed sheet.
    HandoverSheet.objects.filter(pk=sheet.pk).update(number=EXAMPLE_SHEET_NUMBER)


def run_command(command: str, path: Path, errors: Path) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), errors=str(errors), stdout=stdout, stderr=stderr)
    except CommandError as error:
        pytest.fail(
            f"{command} {path.name} exited with status {error.returncode}: {error}\n"
            f"{stdout.getvalue()}{stderr.getvalue()}\n{errors.read_text(encoding='utf-8-sig') if errors.exists() else ''}"
        )
    return stdout.getvalue(), stderr.getvalue()


def import_examples(tmp_path: Path, *, before_each=None) -> list:
    from fulfillment.models import ImportRun

    runs = []
    for command, name in documented_order():
        if before_each is not None:
            before_each(command)
        errors = tmp_path / f"{name}.errors.csv"
        run_command(command, EXAMPLES / name, errors)
        run = ImportRun.objects.order_by("-pk").first()
        assert (run.command, run.rows_rejected, run.finished_at is not None) == (command, 0, True), name
        assert run.rows_read > 0, name
        # Nothing rejected: the report holds its header only.
        assert errors.read_text(encoding="utf-8-sig").splitlines() == ["line,field,message"], name
        runs.append(run)
    return runs


def test_imports_md_lists_every_example_file_once():
    files = [name for _command, name in documented_order()]
    examples = [p.name for p in EXAMPLES.iterdir() if p.is_file() and not p.name.startswith(".")]
    # Importing the examples by hand leaves their error reports beside them (ignored by git).
    assert sorted(files) == sorted(name for name in examples if not name.endswith(".errors.csv"))
    assert len(files) == len(set(files))


@pytest.mark.django_db(transaction=False)
def test_examples_import_cleanly_in_the_documented_order(tmp_path):
    from fulfillment.models import Holiday, Order, Parcel, ParcelStatus, Region, TrackingEvent
    from monitoring.models import Complaint, RouteStandard, StagnationTicket
    from pickups.models import HandoverSheet, PickupCoverage, SheetStatus

    def before(command):
        if command == "import_pickup_confirmations":
            book_example_sheet()

    first = import_examples(tmp_path, before_each=before)
    assert all(run.rows_inserted + run.rows_updated > 0 for run in first)

    assert Region.objects.count() == 6
    assert Region.objects.get(province="内蒙古自治区", city="阿拉善盟").is_remote
    assert Holiday.objects.count() == 8
    assert Holiday.objects.filter(is_working_day=True).count() == 2
    assert RouteStandard.objects.get(origin_province="浙江省", dest_province="广东省").days == 2
    assert PickupCoverage.objects.count() == 4
    assert Order.objects.count() == 8
    assert Parcel.objects.count() == 9
    assert Parcel.objects.filter(order__order_id="TB2026112400202").count() == 2
    assert TrackingEvent.objects.count() == 17
    assert StagnationTicket.objects.count() == 3
    assert Complaint.objects.count() == 1

    delivered = Parcel.objects.get(tracking_no="ZT7731000000101")
    assert delivered.status == ParcelStatus.DELIVERED
    assert delivered.outlet.code == "ZTO-HZ-0571"  # the earliest event naming an outlet
    # A Lazada parcel scanned in at the sorting centre without a pickup scan counts from its inbound.
    lazada = Parcel.objects.get(tracking_no="JT0000000000301")
    assert lazada.picked_up_at == lazada.sorting_centre_at is not None
    assert lazada.sorting_due_at is not None  # LazMall: end of the 3rd working day
    sheet = HandoverSheet.objects.get(number=EXAMPLE_SHEET_NUMBER)
    assert sheet.status == SheetStatus.PICKED_UP
    handed = Parcel.objects.get(tracking_no=SHEET_PARCEL)
    assert handed.status == ParcelStatus.PICKED_UP
    assert handed.picked_up_at == datetime.datetime(2026, 11, 25, 17, 45, tzinfo=SHANGHAI)

    # Re-running every file is a no-op (the sheet exists already: nothing to book again).
    again = import_examples(tmp_path)
    assert [(run.command, run.rows_inserted, run.rows_updated) for run in again] == [
        (run.command, 0, 0) for run in first
    ]


def as_workbook(source: Path, target: Path) -> Path:
    """The example as an operator's spreadsheet: times and dates as real date cells, amounts and
    counts as numbers, the rest as text; a JSON Lines example becomes rows under its first object's keys."""
    import csv
    import json

    from openpyxl import Workbook

    if source.suffix == ".jsonl":
        objects = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        header = list(objects[0])
        rows = [[str(o.get(name, "") if o.get(name) is not None else "") for name in header] for o in objects]
    else:
        header, *rows = list(csv.reader(source.read_text(encoding="utf-8-sig").splitlines()))
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(name, value) for name, value in zip(header, row, strict=False)])
    book.save(target)
    return target


def _cell(name: str, value: str):
    if not value:
        return None
    if name.endswith("_at") and "+" not in value and "Z" not in value:
        return datetime.datetime.fromisoformat(value)  # a real date cell, no offset: Asia/Shanghai
    if name == "date":
        return datetime.date.fromisoformat(value)
    if name in {"amount", "days"}:
        return float(value) if "." in value else int(value)
    return value


@pytest.mark.django_db(transaction=False)
def test_every_example_imports_from_a_workbook_as_from_its_csv(tmp_path):
    """Each example saved as `.xlsx` imports cleanly; the CSV files then find every row already there."""
    from fulfillment.models import ImportRun

    books = tmp_path / "books"
    books.mkdir()
    for command, name in documented_order():
        if command == "import_pickup_confirmations":
            book_example_sheet()
        book = as_workbook(EXAMPLES / name, books / f"{Path(name).stem}-{Path(name).suffix[1:]}.xlsx")
        run_command(command, book, tmp_path / f"{book.name}.errors.csv")
        run = ImportRun.objects.order_by("-pk").first()
        assert (run.rows_rejected, run.rows_inserted + run.rows_updated > 0) == (0, True), name

    again = import_examples(tmp_path)
    assert [(run.command, run.rows_inserted, run.rows_updated) for run in again] == [
        (command, 0, 0) for command, _name in documented_order()
    ]


def test_a_dry_run_of_the_orders_example_writes_nothing(db, tmp_path):
    from fulfillment.models import ImportRun, Order

    call_command(
        "import_orders", str(EXAMPLES / "orders.csv"), dry_run=True, errors=str(tmp_path / "e.csv"),
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert not Order.objects.exists()
    assert ImportRun.objects.get().dry_run


# --------------------------------------------------------------------------------------------- 2. the pointers

MARKDOWN_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PARENT = re.compile(r"(?<![\w.])(?:\.\./)+[^\s)`'\"<>\]]*")
EXTERNAL = re.compile(r"^(https?:|mailto:)", re.I)
FILESYSTEM_ROOTS = ("work", "home", "root", "Users", "etc", "opt", "srv", "var", "tmp", "usr", "mnt", "shared")
TOP_LEVEL = {p.name for p in ROOT.iterdir()}


def pointer_problems(path: Path, text: str | None = None) -> list[str]:
    """What is wrong with the pointers of the markdown file `path` (its `text`, read when not given)."""
    text = path.read_text(encoding="utf-8") if text is None else text
    problems = []
    for match in PARENT.finditer(text):  # in prose and in code alike
        if not (path.parent / match.group()).resolve().is_relative_to(ROOT):
            line = text[: match.start()].count("\n") + 1
            problems.append(f"line {line}: '{match.group()}' points outside the repository")
    prose = FENCE.sub("", text)
    targets = LINK.findall(prose) + REFERENCE.findall(prose)
    for target in targets:
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        if target.startswith(("/", "\\", "file:")) or re.match(r"^[A-Za-z]:[\\/]", target):
            problems.append(f"link {target!r} is an absolute path")
            continue
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        if not resolved.is_relative_to(ROOT):
            problems.append(f"link {target!r} leaves the repository")
        elif not resolved.exists():
            problems.append(f"link {target!r} names a file that does not exist")
    for span in CODE_SPAN.findall(prose):
        span = span.strip().rstrip(".,;:")
        if " " in span or any(c in span for c in "*<>{}$=|"):
            continue
        if span.startswith("/") and span.split("/")[1] in FILESYSTEM_ROOTS:
            problems.append(f"`{span}` is an absolute path outside the repository")
        elif "/" in span and span.split("/")[0] in TOP_LEVEL and not (ROOT / span).exists():
            problems.append(f"`{span}` names a repository path that does not exist")
    return problems


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documentation_points_only_inside_the_repository(path):
    assert pointer_problems(path) == []


def test_the_pointer_check_catches_what_it_should():
    problems = pointer_problems(DOCS / "probe.md", PROBE)
    assert len(problems) == 6, problems
    for expected in ("points outside the repository", "leaves the repository", "is an absolute path", "does not exist", "no_such_module"):
        assert any(expected in problem for problem in problems), (expected, problems)


PROBE = """
See [the design](../../shared/DESIGN.md), [abs](/work/shared/DESIGN.md), [gone](examples/nothing.csv),
`fulfillment/no_such_module.py` and `/work/shared/DESIGN.md`; but [fine](imports.md#columns),
[web](https://docs.djangoproject.com/), `docs/examples/orders.csv` and `/admin/import/` are fine.
"""
