"""`run_import`: what is the same for every import file, whatever it holds.

It opens the file (`sources`: encoding and format from the bytes), refuses a file missing a
required column before anything is written, streams the rows through the importer's `clean_row`
into batches (optionally validated one batch ahead in a background thread), writes each batch in
its own transaction, shows progress, writes the `line,field,message` error report as rows are
rejected and records the run in `ImportRun`. A dry run does all of it inside one transaction that
is rolled back at the end (and records a run marked `dry_run`).
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .importer import Importer
from .parsing import ImportRefused, RowError
from .progress import Progress
from .sources import SourceFile, open_source

Reject = tuple[int, str, str]  # (line, field, message)
Rows = Iterable[tuple[int, dict[str, str] | None]]


# --------------------------------------------------------------------------------------------
# The report: counts for the caller, the error file for the operator
# --------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    command: str
    source: str
    dry_run: bool = False
    encoding: str = ""
    format: str = ""
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_by_field: Counter = field(default_factory=Counter)
    error_report: str = ""
    run_id: int | None = None

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def counts(self) -> dict[str, int]:
        """The counts as `ImportRun` stores them."""
        return {
            "rows_read": self.read,
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_unchanged": self.unchanged,
            "rows_rejected": self.rejected,
        }

    def summary(self) -> str:
        if self.dry_run:
            return _(
                "%(command)s %(source)s: read %(read)s; would insert %(inserted)s, would update %(updated)s, "
                "unchanged %(unchanged)s, rejected %(rejected)s"
            ) % self._figures()
        return _(
            "%(command)s %(source)s: read %(read)s, inserted %(inserted)s, updated %(updated)s, "
            "unchanged %(unchanged)s, rejected %(rejected)s"
        ) % self._figures()

    def _figures(self) -> dict:
        return {
            "command": self.command,
            "source": self.source,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def default_error_report_path(source: str) -> str:
    """`<file>.errors.csv` next to the input, or in the temp directory if that is not writable."""
    candidate = Path(f"{source}.errors.csv")
    if os.access(candidate.parent, os.W_OK):
        return str(candidate)
    return str(Path(tempfile.gettempdir()) / f"{Path(source).name}.errors.csv")


class ErrorReport:
    """The `line,field,message` CSV, written as rows are rejected (UTF-8 with BOM, for spreadsheets).

    Written to a new private file (mode 0600, a unique name: `mkstemp`) in the report's folder, then
    renamed over the report's path at the end. A rename replaces whatever is there — a link planted
    at a predictable name is replaced, never followed — and a reader never sees half a report.
    """

    def __init__(self, path: str):
        self.path = path
        target = Path(path)
        descriptor, self._draft = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        self._file = os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(["line", "field", "message"])

    def write(self, line: int, field: str, message: str) -> None:
        self._writer.writerow([line, field, message])

    def close(self) -> None:
        if self._file.closed:
            return
        self._file.close()
        os.replace(self._draft, self.path)


def print_summary(report: ImportReport, stdout: TextIO, stderr: TextIO) -> None:
    prefix = _("[dry run, nothing written] ") if report.dry_run else ""
    stdout.write(prefix + report.summary() + "\n")
    if report.read and not report.written and not report.dry_run:
        stdout.write(_("Nothing written: every accepted row is already in the database.") + "\n")
    if report.rejected:
        by_field = ", ".join(
            f"{name or _('(row)')} {count}" for name, count in sorted(report.rejected_by_field.items(), key=lambda i: (-i[1], i[0]))
        )
        stderr.write(
            _("%(count)s row(s) rejected — by field: %(by_field)s\n") % {"count": report.rejected, "by_field": by_field}
        )
        stdout.write(_("Error report (line,field,message): %(path)s") % {"path": report.error_report} + "\n")


# --------------------------------------------------------------------------------------------
# run_import and its steps
# --------------------------------------------------------------------------------------------


def run_import(
    importer: Importer,
    path: str | os.PathLike | None,
    *,
    dry_run: bool = False,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    errors_path: str | None = None,
    source_label: str | None = None,
    rows: Rows | None = None,
) -> ImportReport:
    """Import one file (or the importer's own rows, or `rows` given by the caller: the API's entries)
    and return the counts; see the module docstring.

    `source_label`: how the run names its source (an uploaded file's name rather than its work path)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    importer.dry_run = dry_run
    source_label = source_label or (str(path) if path is not None else importer.source_label())
    report = ImportReport(command=importer.command, source=source_label, dry_run=dry_run)

    source, rows = (None, rows) if rows is not None else open_rows(importer, path, report)
    report.error_report = errors_path or (
        default_error_report_path(str(path)) if path is not None else
        str(Path(tempfile.gettempdir()) / f"{importer.command}.errors.csv")
    )
    errors = ErrorReport(report.error_report)
    progress = Progress(stderr, label=importer.command, total_bytes=source.size if source else 1)
    report.run_id = None if dry_run else _run_started(importer, source_label)  # a dry run is recorded at the end
    writer = _BatchWriter(importer, report, errors)
    batches = cleaned_batches(importer, rows, source)
    try:
        _in_transactions(dry_run, lambda: _import_batches(importer, batches, writer, progress))
    finally:
        errors.close()
        if source is not None:
            progress.update(report.read, source.size, final=True)
            source.close()
    _run_finished(importer, report, source_label)
    print_summary(report, stdout, stderr)
    return report


def open_rows(importer: Importer, path, report: ImportReport) -> tuple[SourceFile | None, Rows]:
    """The importer's own rows, or the file's (refused whole when a required column is missing)."""
    own_rows = importer.rows()
    if own_rows is not None:
        return None, own_rows
    if path is None or not os.path.isfile(path):
        raise ImportRefused(_("No such file: %(path)s") % {"path": path})
    source = open_source(path)
    report.encoding, report.format = source.encoding, source.format
    missing = [c for c in importer.required_columns if c not in source.columns]
    if source.format == "jsonl" and len(missing) < len(importer.required_columns):
        missing = []  # an object may leave out an empty field; each row's own checks name what it lacks
    if missing:
        source.close()
        raise ImportRefused(
            _("%(path)s is missing the required column(s) %(missing)s; nothing was imported. Expected columns: %(expected)s")
            % {"path": path, "missing": ", ".join(missing), "expected": ",".join(importer.required_columns)}
        )
    return source, source.rows()


def cleaned_batches(
    importer: Importer, rows: Rows, source: SourceFile | None
) -> Iterator[tuple[list, list[Reject], int, int]]:
    """(records, rejects, rows read so far, bytes read so far) per batch; the last may be empty."""
    batch: list = []
    pending_rejects: list[Reject] = []
    batch_size = importer.options.get("batch_size") or importer.batch_size
    clean = importer.clean_row
    read = 0
    for line, row in rows:
        read += 1
        if row is None:
            pending_rejects.append((line, "", _("not a JSON object")))
            continue
        if isinstance(row, RowError):
            pending_rejects.append((line, row.field, row.message))
            continue
        try:
            batch.append(clean(row, line))
        except RowError as error:
            pending_rejects.append((line, error.field, error.message))
            continue
        except (ValueError, TypeError, ArithmeticError) as error:  # no input ends an import with a traceback
            pending_rejects.append((line, "", _("the row cannot be read (%(error)s)") % {"error": str(error)[:200]}))
            continue
        if len(batch) >= batch_size:
            yield importer.prepare_batch(batch), pending_rejects, read, source.bytes_read if source else 0
            batch, pending_rejects = [], []
    yield importer.prepare_batch(batch), pending_rejects, read, source.size if source else 0


class _BatchWriter:
    """Applies one batch, adds its counts to the report, writes its rejects, keeps `ImportRun` current."""

    def __init__(self, importer: Importer, report: ImportReport, errors: ErrorReport):
        self.importer, self.report, self.errors = importer, report, errors

    def record_rejects(self, rejects: Iterable[Reject]) -> None:
        for line, field_name, message in rejects:
            self.errors.write(line, field_name, message)
            self.report.rejected += 1
            self.report.rejected_by_field[field_name] += 1

    def apply(self, records: list, pending_rejects: list[Reject]) -> None:
        inserted, updated, unchanged = self.importer.apply_batch(records) if records else (0, 0, 0)
        self.report.inserted += inserted
        self.report.updated += updated
        self.report.unchanged += unchanged
        # The report lists a batch's rejects in line order, whichever step refused them.
        self.record_rejects(sorted(pending_rejects + self.importer.take_rejects(), key=lambda reject: reject[0]))
        if self.report.run_id is not None:
            from fulfillment.models import ImportRun

            ImportRun.objects.filter(pk=self.report.run_id).update(**self.report.counts())


def _import_batches(importer: Importer, batches: Iterator, writer: _BatchWriter, progress: Progress) -> None:
    """begin(), every batch in its own transaction, finish()."""
    with transaction.atomic():
        importer.begin()
    if importer.read_ahead:
        batches = read_ahead(batches)
    try:
        for records, pending_rejects, read, bytes_read in batches:
            writer.report.read = read
            # One transaction per batch: a crash loses at most the batch in flight. (In a dry
            # run this is a savepoint inside the outer transaction, rolled back at the end.)
            with transaction.atomic():
                writer.apply(records, pending_rejects)
            progress.update(read, bytes_read)
    finally:
        batches.close()  # stops the read-ahead thread before the file is closed
    with transaction.atomic():
        importer.finish()
        writer.record_rejects(importer.take_rejects())


class _DryRunRollback(Exception):
    pass


def _in_transactions(dry_run: bool, work: Callable[[], None]) -> None:
    """Run `work`; in a dry run inside one outer transaction that is always rolled back."""
    if not dry_run:
        work()
        return
    try:
        with transaction.atomic():
            work()
            raise _DryRunRollback
    except _DryRunRollback:
        pass


def read_ahead(batches: Iterator, depth: int = 1) -> Iterator:
    """Iterate `batches` in a background thread, `depth` batches ahead of the consumer.

    Reading, decoding and validating the next batch (pure Python) overlaps with the database
    writing the current one; at most depth + 2 batches are in memory. The thread touches no
    database connection.
    """
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item) -> bool:
        """Put unless the consumer has gone away; False when it has."""
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in batches:
                if not offer(item):
                    return
            offer(done)
        except BaseException as error:  # handed to the consumer, raised there
            offer(error)

    thread = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# The ImportRun record
# --------------------------------------------------------------------------------------------


def _run_started(importer: Importer, source_label: str) -> int:
    from fulfillment.models import ImportRun

    return ImportRun.objects.create(command=importer.command, source=source_label[:500], by=importer.by).pk


def _run_finished(importer: Importer, report: ImportReport, source_label: str) -> None:
    """The final counts on the run's record; a dry run (rolled back) is recorded only now."""
    from fulfillment.models import ImportRun

    final = {
        **report.counts(),
        "finished_at": timezone.now(),
        "error_report": report.error_report if report.rejected else "",
    }
    if report.run_id is not None:
        ImportRun.objects.filter(pk=report.run_id).update(**final)
    else:
        ImportRun.objects.create(
            command=importer.command, source=source_label[:500], dry_run=True, by=importer.by, **final
        )
