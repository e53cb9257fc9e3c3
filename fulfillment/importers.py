"""The import framework every `import_*` command is built on, and the fulfillment importers.

An importer validates each row into a typed record (`clean_row`, raising `RowError`) and writes the
accepted records batch by batch (`apply_batch`), each batch in its own transaction, so that an
import killed half-way leaves whole batches behind and re-running the file completes it: every
importer writes by natural key and counts an existing identical row as *unchanged*.

`run_import` does what is the same for every file: it detects the encoding from the bytes (UTF-8,
UTF-8 with BOM, GB18030 as Chinese spreadsheet tools export it) and CSV vs JSON Lines from the
content, refuses a file missing a required column before anything is written, streams the rows
(memory stays flat whatever the file size), shows progress, writes the `line,field,message` error
report and records the run in `ImportRun`. `ImportCommand` is the thin management command around it.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC


# --------------------------------------------------------------------------------------------
# Row validation
# --------------------------------------------------------------------------------------------


class RowError(ValueError):
    """A rejected row: `field` names the column at fault, `message` says what is wrong with it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = str(message)


class ImportRefused(CommandError):
    """The whole file is refused before anything is written (missing columns, unreadable bytes)."""

    def __init__(self, message: str):
        super().__init__(message, returncode=2)


def parse_time(value: str, field: str = "") -> datetime.datetime:
    """ISO 8601 date and time -> aware datetime; without an offset the time is in Asia/Shanghai.

    `Z` and `+08:00`-style offsets are honoured. A date alone, an impossible date (Feb 30) or
    anything else raises `RowError(field, ...)`.
    """
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("a date and time is required"))
    if len(value) <= 10:
        raise RowError(field, _("“%(value)s” has no time of day (expected e.g. 2026-05-01 14:30)") % {"value": value})
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise RowError(
            field, _("“%(value)s” is not a valid ISO 8601 date and time") % {"value": value[:40]}
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment


def parse_optional_time(value: str, field: str = "") -> datetime.datetime | None:
    return parse_time(value, field) if (value or "").strip() else None


def parse_date(value: str, field: str = "") -> datetime.date:
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("a date is required"))
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise RowError(field, _("“%(value)s” is not a valid date (expected YYYY-MM-DD)") % {"value": value[:40]}) from None


def parse_amount(value: str, field: str = "", *, places: int = 2) -> Decimal:
    """A non-negative decimal amount with at most `places` decimals."""
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("an amount is required"))
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(field, _("“%(value)s” is not a number") % {"value": value[:40]}) from None
    if not amount.is_finite():
        raise RowError(field, _("“%(value)s” is not a number") % {"value": value[:40]})
    if amount < 0:
        raise RowError(field, _("must not be negative"))
    if -amount.as_tuple().exponent > places:
        raise RowError(field, _("has more than %(places)s decimals") % {"places": places})
    return amount


def parse_int(value: str, field: str = "", *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = (value or "").strip()
    if not value:
        raise RowError(field, _("a whole number is required"))
    try:
        number = int(value)
    except ValueError:
        raise RowError(field, _("“%(value)s” is not a whole number") % {"value": value[:40]}) from None
    if minimum is not None and number < minimum:
        raise RowError(field, _("must be at least %(minimum)s") % {"minimum": minimum})
    if maximum is not None and number > maximum:
        raise RowError(field, _("must be at most %(maximum)s") % {"maximum": maximum})
    return number


_TRUE = {"1", "true", "yes", "y", "t", "是"}
_FALSE = {"0", "false", "no", "n", "f", "否", ""}


def parse_bool(value: str, field: str = "") -> bool:
    """1/0, true/false, yes/no (any case), 是/否; empty is false."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(field, _("“%(value)s” is not yes/no (use 1 or 0, true or false)") % {"value": value[:40]})


def parse_choice(value: str, field: str, choices, *, label: str | None = None) -> str:
    """A value from `choices` (case-insensitive); the message lists the accepted values."""
    text = (value or "").strip().lower()
    if text in choices:
        return text
    if not text:
        raise RowError(field, _("is required"))
    raise RowError(
        field,
        _("unknown %(label)s “%(value)s” (expected one of: %(choices)s)")
        % {"label": label or field, "value": value[:40], "choices": ", ".join(sorted(choices))},
    )


def require(row: dict[str, str], field: str, *, max_length: int | None = None) -> str:
    """The stripped value of a key column, which must not be empty."""
    value = (row.get(field) or "").strip()
    if not value:
        raise RowError(field, _("must not be empty"))
    if max_length is not None and len(value) > max_length:
        raise RowError(field, _("is longer than %(max)s characters") % {"max": max_length})
    return value


def optional(row: dict[str, str], field: str, *, max_length: int | None = None) -> str:
    value = (row.get(field) or "").strip()
    if max_length is not None and len(value) > max_length:
        raise RowError(field, _("is longer than %(max)s characters") % {"max": max_length})
    return value


# --------------------------------------------------------------------------------------------
# Reading files: encoding and format detection, streaming
# --------------------------------------------------------------------------------------------

_CHUNK = 1 << 20


def detect_encoding(path: str | os.PathLike) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', decided from the bytes of the whole file, not its name.

    The file is read once in 1 MB chunks through an incremental decoder (memory stays flat): a
    spreadsheet's GB18030 export with Chinese names further down is almost never valid UTF-8.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRefused(_("%(path)s is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 and try again.") % {"path": path})


class _CountingReader(io.RawIOBase):
    """A raw binary stream that counts the bytes read, for the progress percentage."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n

    def close(self):
        self.raw.close()
        super().close()


class SourceFile:
    """An open input file: `columns` (the header) and `rows()` yielding (line number, row dict)."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.size = os.path.getsize(self.path)
        self.encoding = detect_encoding(self.path)
        self._counter = _CountingReader(open(self.path, "rb", buffering=0))  # noqa: SIM115 (closed in close())
        self._text = io.TextIOWrapper(io.BufferedReader(self._counter, _CHUNK), encoding=self.encoding, newline="")
        self.format = self._sniff_format()
        self.columns: list[str] = []
        self._first: tuple[int, dict[str, str]] | None = None
        if self.format == "jsonl":
            self._jsonl = self._jsonl_rows()
            try:
                self._first = next(self._jsonl)
            except StopIteration:
                self._first = None
            if self._first is not None and self._first[1] is None:
                self.close()
                raise ImportRefused(
                    _("%(path)s: line %(line)s is not a JSON object; a JSON Lines file has one object per line.")
                    % {"path": self.path, "line": self._first[0]}
                )
            if self._first is not None:
                self.columns = list(self._first[1])
        else:
            self._csv = csv.reader(self._text)
            try:
                self.columns = [c.strip().lstrip("\ufeff").lower() for c in next(self._csv)]
            except StopIteration:
                self.columns = []

    def _sniff_format(self) -> str:
        """JSON Lines when the first non-blank character is `{`, otherwise CSV."""
        buffered = self._text.buffer
        peek = buffered.peek(4096)[:4096]
        text = peek.decode(self.encoding, errors="ignore").lstrip("\ufeff \t\r\n")
        return "jsonl" if text.startswith("{") else "csv"

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, str] | None]]:
        for line_no, line in enumerate(self._text, start=1):
            line = line.strip().lstrip("\ufeff")
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                yield line_no, None
                continue
            if not isinstance(obj, dict):
                yield line_no, None
                continue
            yield line_no, {str(k).strip().lower(): _json_text(v) for k, v in obj.items()}

    def rows(self) -> Iterator[tuple[int, dict[str, str] | None]]:
        """(line, row) pairs; row is None for a line that is not a JSON object (JSON Lines)."""
        if self.format == "jsonl":
            if self._first is not None:
                yield self._first
            yield from self._jsonl
            return
        columns = self.columns
        width = len(columns)
        reader = self._csv
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) < width:
                values = values + [""] * (width - len(values))
            yield reader.line_num, dict(zip(columns, values, strict=False))

    def close(self):
        self._text.close()


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------


class Progress:
    """A bar with rows/s on a terminal; a plain line every `interval` seconds otherwise."""

    def __init__(self, stream: TextIO, *, label: str, total_bytes: int, interval: float = 5.0):
        # A management command's OutputWrapper appends a newline to every write: use what it wraps.
        self.stream = getattr(stream, "_out", stream)
        self.label = label
        self.total_bytes = max(total_bytes, 1)
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else interval
        self.started = time.monotonic()
        self.last = self.started

    def update(self, rows: int, bytes_read: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = rows / elapsed
        share = min(bytes_read / self.total_bytes, 1.0)
        if self.tty:
            width = 30
            filled = int(width * share)
            bar = "█" * filled + "░" * (width - filled)
            end = "\n" if final else ""
            self.stream.write(f"\r{self.label} {bar} {share:4.0%} {rows:,} rows {rate:,.0f} rows/s{end}")
        elif final or rows:
            self.stream.write(
                _("%(label)s: %(rows)s rows read (%(share)s), %(rate)s rows/s\n")
                % {"label": self.label, "rows": f"{rows:,}", "share": f"{share:.0%}", "rate": f"{rate:,.0f}"}
            )
        self.stream.flush()


# --------------------------------------------------------------------------------------------
# Importer base class and the run loop
# --------------------------------------------------------------------------------------------


class Importer:
    """Subclass and set `command`, `required_columns`; implement `clean_row` and `apply_batch`.

    `clean_row(row, line)` returns a record (anything) or raises `RowError(field, message)`.
    `apply_batch(records)` writes one batch (called inside a transaction) and returns
    `(inserted, updated, unchanged)`; a record it cannot apply (e.g. an event for an unknown
    parcel) is reported with `self.reject(line, field, message)` and not counted. `begin()` runs
    once before the first batch, `finish()` once after the last (both inside a transaction).
    """

    command: str = ""
    required_columns: tuple[str, ...] = ()
    batch_size: int = 5000
    # Validate the next batch in a background thread while this one is written (only for
    # importers whose clean_row touches no database).
    read_ahead: bool = False

    def __init__(self, *, by=None, **options):
        self.by = by
        self.options = options
        self.dry_run = False
        self._rejects: list[tuple[int, str, str]] = []

    def clean_row(self, row: dict[str, str], line: int):
        raise NotImplementedError

    def apply_batch(self, records: list) -> tuple[int, int, int]:
        raise NotImplementedError

    def prepare_batch(self, records: list) -> list:
        """A full batch of cleaned records before it is applied (no database here: with
        `read_ahead` this runs in the reading thread). Returns the list given to `apply_batch`."""
        return records

    def begin(self) -> None:
        """Once, before the first batch (e.g. create a staging table)."""

    def finish(self) -> None:
        """Once, after the last batch (e.g. recompute what depends on the whole file)."""

    def reject(self, line: int, field: str, message: str) -> None:
        self._rejects.append((line, field, str(message)))

    def take_rejects(self) -> list[tuple[int, str, str]]:
        rejects, self._rejects = self._rejects, []
        return rejects

    def source_label(self) -> str:
        """What ImportRun.source says when the rows do not come from a file."""
        return f"({self.command})"

    def rows(self) -> Iterator[tuple[int, dict[str, str] | None]] | None:
        """Rows from somewhere other than a file (e.g. `import_holidays --year`); None = read the file."""
        return None


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

    def summary(self) -> str:
        return _(
            "%(command)s %(source)s: read %(read)s, inserted %(inserted)s, updated %(updated)s, "
            "unchanged %(unchanged)s, rejected %(rejected)s"
        ) % {
            "command": self.command,
            "source": self.source,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def _read_ahead(batches: Iterator, depth: int = 1) -> Iterator:
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


class _DryRunRollback(Exception):
    pass


def default_error_report_path(source: str) -> str:
    """`<file>.errors.csv` next to the input, or in the temp directory if that is not writable."""
    candidate = Path(f"{source}.errors.csv")
    if os.access(candidate.parent, os.W_OK):
        return str(candidate)
    return str(Path(tempfile.gettempdir()) / f"{Path(source).name}.errors.csv")


class _ErrorReport:
    """The `line,field,message` CSV, written as rows are rejected (UTF-8 with BOM, for spreadsheets)."""

    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed in close())
        self._writer = csv.writer(self._file)
        self._writer.writerow(["line", "field", "message"])

    def write(self, line: int, field: str, message: str) -> None:
        self._writer.writerow([line, field, message])

    def close(self) -> None:
        self._file.close()


def run_import(
    importer: Importer,
    path: str | os.PathLike | None,
    *,
    dry_run: bool = False,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    errors_path: str | None = None,
) -> ImportReport:
    """Import one file (or the importer's own rows) and return the counts; see the module docstring."""
    from fulfillment.models import ImportRun

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    importer.dry_run = dry_run
    source_label = str(path) if path is not None else importer.source_label()
    report = ImportReport(command=importer.command, source=source_label, dry_run=dry_run)

    own_rows = importer.rows()
    source = None
    if own_rows is None:
        if path is None or not os.path.isfile(path):
            raise ImportRefused(_("No such file: %(path)s") % {"path": path})
        source = SourceFile(path)
        report.encoding, report.format = source.encoding, source.format
        missing = [c for c in importer.required_columns if c not in source.columns]
        if missing:
            source.close()
            raise ImportRefused(
                _("%(path)s is missing the required column(s) %(missing)s; nothing was imported. Expected columns: %(expected)s")
                % {"path": path, "missing": ", ".join(missing), "expected": ",".join(importer.required_columns)}
            )
        rows = source.rows()
    else:
        rows = own_rows

    report.error_report = errors_path or (
        default_error_report_path(str(path)) if path is not None else
        str(Path(tempfile.gettempdir()) / f"{importer.command}.errors.csv")
    )
    errors = _ErrorReport(report.error_report)
    progress = Progress(stderr, label=importer.command, total_bytes=source.size if source else 1)

    run = None
    if not dry_run:
        run = ImportRun.objects.create(command=importer.command, source=source_label[:500], by=importer.by)
        report.run_id = run.pk

    def record_rejects(rejects):
        for line, field_name, message in rejects:
            errors.write(line, field_name, message)
            report.rejected += 1
            report.rejected_by_field[field_name] += 1

    def apply(records, pending_rejects):
        inserted, updated, unchanged = importer.apply_batch(records) if records else (0, 0, 0)
        report.inserted += inserted
        report.updated += updated
        report.unchanged += unchanged
        # The report lists a batch's rejects in line order, whichever step refused them.
        record_rejects(sorted(pending_rejects + importer.take_rejects(), key=lambda reject: reject[0]))
        if run is not None:
            ImportRun.objects.filter(pk=run.pk).update(
                rows_read=report.read,
                rows_inserted=report.inserted,
                rows_updated=report.updated,
                rows_unchanged=report.unchanged,
                rows_rejected=report.rejected,
            )

    def cleaned_batches():
        """(records, rejects, rows read so far, bytes read so far) per batch; the last may be empty."""
        batch: list = []
        pending_rejects: list[tuple[int, str, str]] = []
        batch_size = importer.options.get("batch_size") or importer.batch_size
        clean = importer.clean_row
        read = 0
        for line, row in rows:
            read += 1
            if row is None:
                pending_rejects.append((line, "", _("not a JSON object")))
                continue
            try:
                batch.append(clean(row, line))
            except RowError as error:
                pending_rejects.append((line, error.field, error.message))
                continue
            if len(batch) >= batch_size:
                yield importer.prepare_batch(batch), pending_rejects, read, source.bytes_read if source else 0
                batch, pending_rejects = [], []
        yield importer.prepare_batch(batch), pending_rejects, read, source.size if source else 0

    def loop():
        with transaction.atomic():
            importer.begin()
        batches = _read_ahead(cleaned_batches()) if importer.read_ahead else cleaned_batches()
        try:
            for records, pending_rejects, read, bytes_read in batches:
                report.read = read
                # One transaction per batch: a crash loses at most the batch in flight. (In a dry
                # run this is a savepoint inside the outer transaction, rolled back at the end.)
                with transaction.atomic():
                    apply(records, pending_rejects)
                progress.update(report.read, bytes_read)
        finally:
            batches.close()  # stops the read-ahead thread before the file is closed
        with transaction.atomic():
            importer.finish()
            record_rejects(importer.take_rejects())

    try:
        if dry_run:
            try:
                with transaction.atomic():
                    loop()
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            loop()
    finally:
        errors.close()
        if source is not None:
            progress.update(report.read, source.size, final=True)
            source.close()

    if run is not None:
        ImportRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            rows_read=report.read,
            rows_inserted=report.inserted,
            rows_updated=report.updated,
            rows_unchanged=report.unchanged,
            rows_rejected=report.rejected,
            error_report=report.error_report if report.rejected else "",
        )
    else:
        ImportRun.objects.create(
            command=importer.command,
            source=source_label[:500],
            dry_run=True,
            finished_at=timezone.now(),
            rows_read=report.read,
            rows_inserted=report.inserted,
            rows_updated=report.updated,
            rows_unchanged=report.unchanged,
            rows_rejected=report.rejected,
            error_report=report.error_report if report.rejected else "",
            by=importer.by,
        )
    _print_summary(report, stdout, stderr)
    return report


def _print_summary(report: ImportReport, stdout: TextIO, stderr: TextIO) -> None:
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
# The management command
# --------------------------------------------------------------------------------------------


class ImportCommand(BaseCommand):
    """Subclasses set `importer_class` (and `help`); exit status 1 when any row was rejected."""

    importer_class: type[Importer]
    path_required = True

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs=None if self.path_required else "?",
            help=_("CSV (UTF-8, UTF-8 with BOM or GB18030) or JSON Lines file"),
        )
        parser.add_argument("--dry-run", action="store_true", help=_("validate and report without writing"))
        parser.add_argument("--errors", metavar="PATH", help=_("where to write the line,field,message error report"))
        parser.add_argument(
            "--batch-size", type=int, metavar="ROWS", help=_("rows per transaction (default: the importer's own)")
        )

    def importer_options(self, options) -> dict:
        """Extra keyword arguments for the importer (subclasses with extra options override)."""
        return {}

    def handle(self, *args, **options):
        importer = self.importer_class(batch_size=options.get("batch_size"), **self.importer_options(options))
        try:
            report = run_import(
                importer,
                options.get("path"),
                dry_run=options["dry_run"],
                stdout=self.stdout,
                stderr=self.stderr,
                errors_path=options.get("errors"),
            )
        except (OperationalError, InterfaceError) as lost:
            # The server went away (restart, network) or refused to go on (locked): every committed batch is kept and the batch
            # under way was rolled back, so running the same command again finishes the file.
            raise CommandError(
                _(
                    "The database stopped answering during %(command)s of %(path)s (%(error)s). "
                    "Every batch written before is kept; run the same command again to finish the file."
                )
                % {"command": importer.command, "path": options.get("path"), "error": str(lost).strip().splitlines()[0]},
                returncode=3,
            ) from lost
        if report.rejected:
            raise CommandError(
                _("%(count)s row(s) rejected; see %(path)s") % {"count": report.rejected, "path": report.error_report},
                returncode=1,
            )


# --------------------------------------------------------------------------------------------
# Reference data: regions and holidays
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RegionRecord:
    line: int
    province: str
    city: str
    is_remote: bool


class RegionImporter(Importer):
    """`province,city,is_remote`; `city` empty = the whole province. Keyed by (province, city).

    After the file, the running parcels bound for a region whose remote flag changed are announced
    with `parcels_changed(reason="regions")`, so that their stagnation deadlines (72 h, 96 h to
    remote destinations) follow without a manual `recompute_deadlines`.
    """

    command = "import_regions"
    required_columns = ("province", "city", "is_remote")
    batch_size = 2000

    def __init__(self, **options):
        super().__init__(**options)
        self.changed_regions: set[tuple[str, str]] = set()

    def clean_row(self, row, line):
        return RegionRecord(
            line=line,
            province=require(row, "province", max_length=64),
            city=optional(row, "city", max_length=64),
            is_remote=parse_bool(row.get("is_remote", ""), "is_remote"),
        )

    def apply_batch(self, records):
        from fulfillment.models import Region

        latest = {(r.province, r.city): r for r in records}  # a later row for the same region wins
        existing = {
            (region.province, region.city): region
            for region in Region.objects.filter(province__in={key[0] for key in latest})
        }
        new, changed, unchanged = [], [], 0
        for key, record in latest.items():
            region = existing.get(key)
            if region is None:
                new.append(Region(province=record.province, city=record.city, is_remote=record.is_remote))
                if record.is_remote:  # an unknown region counted as not remote until now
                    self.changed_regions.add(key)
            elif region.is_remote != record.is_remote:
                region.is_remote = record.is_remote
                changed.append(region)
                self.changed_regions.add(key)
            else:
                unchanged += 1
        Region.objects.bulk_create(new)
        Region.objects.bulk_update(changed, ["is_remote"])
        return len(new), len(changed), unchanged + len(records) - len(latest)

    def finish(self):
        if self.changed_regions:
            from fulfillment.services import parcels_destination_remote_changed

            parcels_destination_remote_changed(regions=self.changed_regions)


@dataclass(slots=True)
class HolidayRecord:
    line: int
    date: datetime.date
    is_working_day: bool
    name: str


class HolidayImporter(Importer):
    """`date,is_working_day,name` — or, with `year`, the mainland schedule from `chinese-calendar`.

    After a change, the parcels whose deadlines count working days (Lazada Mall: ship by the end
    of the 1st working day, sorting centre by the end of the 3rd) and are not yet past those
    milestones are announced with `parcels_changed(reason="holidays")` so that the deadline
    receiver recomputes them.
    """

    command = "import_holidays"
    required_columns = ("date", "is_working_day", "name")
    batch_size = 2000

    def __init__(self, *, year: int | None = None, **options):
        super().__init__(**options)
        self.year = year
        self.changed_dates: set[datetime.date] = set()

    def source_label(self):
        return f"chinese-calendar {self.year}"

    def rows(self):
        if self.year is None:
            return None
        return _chinese_calendar_rows(self.year)

    def clean_row(self, row, line):
        return HolidayRecord(
            line=line,
            date=parse_date(row.get("date", ""), "date"),
            is_working_day=parse_bool(row.get("is_working_day", ""), "is_working_day"),
            name=optional(row, "name", max_length=100),
        )

    def apply_batch(self, records):
        from fulfillment.models import Holiday

        latest = {r.date: r for r in records}
        existing = {h.date: h for h in Holiday.objects.filter(date__in=list(latest))}
        new, changed, unchanged = [], [], 0
        for day, record in latest.items():
            holiday = existing.get(day)
            if holiday is None:
                new.append(Holiday(date=day, is_working_day=record.is_working_day, name=record.name))
                self.changed_dates.add(day)
            elif (holiday.is_working_day, holiday.name) != (record.is_working_day, record.name):
                if holiday.is_working_day != record.is_working_day:
                    self.changed_dates.add(day)
                holiday.is_working_day, holiday.name = record.is_working_day, record.name
                changed.append(holiday)
            else:
                unchanged += 1
        Holiday.objects.bulk_create(new)
        Holiday.objects.bulk_update(changed, ["is_working_day", "name"])
        return len(new), len(changed), unchanged + len(records) - len(latest)

    def finish(self):
        if self.changed_dates:
            from fulfillment.services import parcels_working_day_deadlines_changed

            parcels_working_day_deadlines_changed(since=min(self.changed_dates))


def _chinese_calendar_rows(year: int) -> Iterator[tuple[int, dict[str, str]]]:
    """The mainland schedule of `year`: weekday holidays and make-up working days on weekends."""
    import chinese_calendar

    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    try:
        holidays = chinese_calendar.get_holidays(start, end, include_weekends=False)
        workdays = [d for d in chinese_calendar.get_workdays(start, end) if d.weekday() >= 5]
    except NotImplementedError:
        raise ImportRefused(
            _("The chinese-calendar package has no schedule for %(year)s; upgrade it or import a CSV.") % {"year": year}
        ) from None
    days = [(d, False) for d in holidays] + [(d, True) for d in workdays]
    for line, (day, is_working_day) in enumerate(sorted(days), start=1):
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
        name = name or ""
        if is_working_day and name:
            name = _("%(holiday)s (make-up working day)") % {"holiday": name}
        yield line, {"date": day.isoformat(), "is_working_day": "1" if is_working_day else "0", "name": name[:100]}


# --------------------------------------------------------------------------------------------
# Tracking events
# --------------------------------------------------------------------------------------------

_EVENT_STAGE = "import_event_stage"
_EVENT_STAGE_COLUMNS = ("line", "carrier_code", "tracking_no", "code", "occurred_at", "location", "description", "outlet_code")


class _CopyBatch(list):
    """A batch of records with its COPY payload."""

    def __init__(self, records, copy_payload: bytes):
        super().__init__(records)
        self.copy_payload = copy_payload


class EventImporter(Importer):
    """`carrier_code,tracking_no,code,occurred_at,location,description,outlet_code`.

    Each batch is loaded into a temporary staging table (PostgreSQL: `COPY`; SQLite: one
    `executemany`) and written by a few set statements: each row's parcel is found once (carrier
    code + tracking number, one UPDATE … FROM on the staging table), rows without one are reported,
    missing outlets are created for the parcel's carrier, the events are inserted with one
    `INSERT … SELECT … ON CONFLICT DO NOTHING` (an event is identified by parcel, time, code and
    location, so importing it twice stores it once; the insert's row count is the number
    inserted, the rest are unchanged), and the new events are folded into their parcels'
    milestones with one UPDATE (`services.parcels_fold_new_events`), which also sends
    `parcels_changed(reason="events")`.

    The same SQL runs on both databases; on SQLite the staging table replaces the
    `bulk_create(ignore_conflicts=True)` of the house style because it also finds unknown parcels
    and counts inserted rows in SQL, and is faster than building a model instance per event.
    """

    command = "import_events"
    read_ahead = True
    required_columns = ("carrier_code", "tracking_no", "code", "occurred_at", "location", "description", "outlet_code")

    def __init__(self, **options):
        super().__init__(**options)
        from django.db import connection

        from fulfillment.models import EventCode

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        # Rows per transaction: fewer per-batch statements; a crash loses at most one batch, and on
        # SQLite a batch holds the write lock for a second or two (other writers wait; busy timeout 30 s).
        self.batch_size = 50000
        self.codes = frozenset(EventCode.values)

    def clean_row(self, row, line):
        carrier_code = (row.get("carrier_code") or "").strip()
        tracking_no = (row.get("tracking_no") or "").strip()
        code = (row.get("code") or "").strip().lower()
        if not carrier_code:
            raise RowError("carrier_code", _("must not be empty"))
        if not tracking_no:
            raise RowError("tracking_no", _("must not be empty"))
        if code not in self.codes:
            parse_choice(code, "code", self.codes, label=_("event code"))
        occurred_at = parse_time(row.get("occurred_at", ""), "occurred_at")
        location = (row.get("location") or "").strip()
        description = (row.get("description") or "").strip()
        outlet_code = (row.get("outlet_code") or "").strip()
        if len(location) > 200:
            raise RowError("location", _("is longer than %(max)s characters") % {"max": 200})
        if len(outlet_code) > 64:
            raise RowError("outlet_code", _("is longer than %(max)s characters") % {"max": 64})
        if len(tracking_no) > 64 or len(carrier_code) > 32:
            field_name = "tracking_no" if len(tracking_no) > 64 else "carrier_code"
            raise RowError(field_name, _("is too long"))
        if not self.postgres:
            # Django's SQLite text form of a datetime: UTC, naive, "YYYY-MM-DD HH:MM:SS[.ffffff]".
            occurred_at = str(occurred_at.astimezone(UTC).replace(tzinfo=None))
        return (line, carrier_code, tracking_no, code, occurred_at, location, description, outlet_code)

    def begin(self):
        kind = "timestamptz" if self.postgres else "text"
        if self.postgres:
            # A batch's staging rows (~10 MB) stay in the session's temp buffers (8 MB by default)
            # instead of spilling to temp files. Settable only before the session's first temp table.
            try:
                with transaction.atomic(), self.connection.cursor() as cursor:
                    cursor.execute("SET temp_buffers TO '256MB'")
            except DatabaseError:
                pass
        else:
            # SQLite's page cache is 2 MB by default: the parcel and event indexes of a large import
            # are read from the file over and over. 64 MB for this connection (counted in the
            # importing process's memory, which stays under 300 MB for any file size).
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -65536")
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_EVENT_STAGE} (line integer, carrier_code text, tracking_no text, "
                f"code text, occurred_at {kind}, location text, description text, outlet_code text, "
                "carrier_id bigint, parcel_id bigint)"
            )

    def prepare_batch(self, records):
        """PostgreSQL: the batch as one COPY (CSV) payload, built in the reading thread so that the
        connection's thread only streams bytes while the previous batch's statements run."""
        if not self.postgres or not records:
            return records
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(
            (line, carrier, tracking, code, moment.isoformat(), location, description, outlet)
            for line, carrier, tracking, code, moment, location, description, outlet in records
        )
        return _CopyBatch(records, buffer.getvalue().encode("utf-8"))

    def _load_stage(self, cursor, records):
        # Emptied per batch, not ON COMMIT: a dry run is one transaction.
        cursor.execute(f"{'TRUNCATE' if self.postgres else 'DELETE FROM'} {_EVENT_STAGE}")  # noqa: S608 — constants
        if self.postgres:
            columns = ", ".join(_EVENT_STAGE_COLUMNS)
            text_columns = ", ".join(c for c in _EVENT_STAGE_COLUMNS if c not in ("line", "occurred_at"))
            copy_sql = f"COPY {_EVENT_STAGE} ({columns}) FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({text_columns}))"
            with cursor.cursor.copy(copy_sql) as copy:
                payload = getattr(records, "copy_payload", None)
                if payload is None:
                    payload = self.prepare_batch(records).copy_payload
                copy.write(payload)
        else:
            marks = ", ".join(["?"] * len(_EVENT_STAGE_COLUMNS))
            # The raw sqlite3 cursor: Django's wrapper would rewrite %s for every one of the rows.
            cursor.cursor.executemany(
                f"INSERT INTO {_EVENT_STAGE} ({', '.join(_EVENT_STAGE_COLUMNS)}) VALUES ({marks})", records  # noqa: S608
            )
        # Each row's parcel, found once (by carrier code + tracking number) for the statements below.
        cursor.execute(
            f"UPDATE {_EVENT_STAGE} SET carrier_id = c.id, parcel_id = p.id "  # noqa: S608 — constants only
            "FROM fulfillment_carrier c JOIN fulfillment_parcel p ON p.carrier_id = c.id "
            f"WHERE c.code = {_EVENT_STAGE}.carrier_code AND p.tracking_no = {_EVENT_STAGE}.tracking_no"
        )

    def apply_batch(self, records):
        from fulfillment.services import parcels_fold_new_events

        now = timezone.now()
        with self.connection.cursor() as cursor:
            if self.postgres:
                # Don't wait for the WAL flush at each batch's commit. A server crash may lose the
                # last batches reported as committed (never corrupt anything); re-running the file
                # restores them, exactly as after a killed import.
                # (And room for the batch's hash joins and sort in memory rather than temp files.)
                cursor.execute("SET LOCAL synchronous_commit TO OFF; SET LOCAL work_mem TO '64MB'; SET LOCAL jit TO off; SET CONSTRAINTS ALL IMMEDIATE")
            self._load_stage(cursor, records)
            # 1. Events for a parcel we do not know are reported, not stored.
            cursor.execute(
                f"SELECT line, carrier_code, tracking_no FROM {_EVENT_STAGE} "  # noqa: S608 — constants only
                "WHERE parcel_id IS NULL ORDER BY line"
            )
            unknown = cursor.fetchall()
            for line, carrier_code, tracking_no in unknown:
                self.reject(
                    line,
                    "tracking_no",
                    _("unknown parcel: no parcel with tracking number %(tracking_no)s for carrier %(carrier)s")
                    % {"tracking_no": tracking_no, "carrier": carrier_code},
                )
            # 2. Outlets named by the events, created for the parcel's carrier if unknown.
            cursor.execute(
                "INSERT INTO fulfillment_carrieroutlet (carrier_id, code, name, province, city) "  # noqa: S608
                f"SELECT DISTINCT carrier_id, outlet_code, '', '', '' FROM {_EVENT_STAGE} "
                "WHERE parcel_id IS NOT NULL AND outlet_code <> '' ON CONFLICT DO NOTHING"
            )
            # 3. The events themselves; one already stored (same parcel, code, time, location) is skipped.
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM fulfillment_trackingevent")
            (before,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO fulfillment_trackingevent "  # noqa: S608 — constants only
                "(parcel_id, code, occurred_at, location, description, outlet_id, imported_at) "
                f"SELECT s.parcel_id, s.code, s.occurred_at, s.location, s.description, o.id, %s FROM {_EVENT_STAGE} s "
                "LEFT JOIN fulfillment_carrieroutlet o ON o.carrier_id = s.carrier_id AND o.code = s.outlet_code "
                "WHERE s.parcel_id IS NOT NULL "
                "ORDER BY s.line "
                "ON CONFLICT DO NOTHING",
                [now],
            )
            inserted = max(cursor.rowcount, 0)
        # 4. Milestones, last node, outlet and status of the parcels that got new events.
        if inserted:
            parcels_fold_new_events(after_event_id=before, reason="events")
        return inserted, 0, len(records) - len(unknown) - inserted


# --------------------------------------------------------------------------------------------
# Orders and their parcels
# --------------------------------------------------------------------------------------------


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


_ORDER_FIELDS = ("seller_tier", "paid_at", "amount", "origin_province", "dest_province", "dest_city")


class OrderImporter(Importer):
    """`platform,shop_code,order_id,paid_at,amount,seller_tier,origin_province,dest_province,dest_city,carrier_code,tracking_no,shipped_at,rts_at`.

    Each row is one parcel of an order (DESIGN.md, "Import formats"): a row without a tracking
    number stands for the order's one untracked parcel; a later row for the same order with a
    tracking number fills that parcel in, or adds a parcel when the order has none untracked. A
    row without a tracking number for an order whose parcels all have one describes the state
    before they were filled in, so it changes nothing (re-running a file stays a no-op). An
    unknown shop is created with the row's platform and tier, an unknown carrier by its code.
    Parcels copy shop, platform and paid_at from their order; `shipped_at` / `rts_at` set the
    milestones (a value already there is only replaced by a different non-empty one) and the
    status (`shipped`, `ready_to_ship`) never moves backwards. After each batch the parcels
    written are announced with `parcels_changed(reason="orders")`, whose receiver recomputes
    their deadlines.
    """

    command = "import_orders"
    required_columns = (
        "platform", "shop_code", "order_id", "paid_at", "amount", "seller_tier", "origin_province",
        "dest_province", "dest_city", "carrier_code", "tracking_no", "shipped_at", "rts_at",
    )
    batch_size = 2000

    def __init__(self, **options):
        super().__init__(**options)
        from fulfillment.models import Platform, SellerTier

        self.platforms = frozenset(Platform.values)
        self.tiers = frozenset(SellerTier.values)

    def clean_row(self, row, line):
        platform = parse_choice(row.get("platform", ""), "platform", self.platforms, label=_("platform"))
        shop_code = require(row, "shop_code", max_length=64)
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
        if tracking_no and not carrier_code:
            raise RowError("carrier_code", _("is required when a tracking number is given"))
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
        )

    def apply_batch(self, records):
        from fulfillment.models import STATUS_RANK, Carrier, Order, Parcel, ParcelStatus, Shop
        from fulfillment.services import send_parcels_changed

        # Everything the batch may touch, in a handful of queries.
        shops = {s.code: s for s in Shop.objects.filter(code__in={r.shop_code for r in records})}
        carriers = {c.code: c for c in Carrier.objects.filter(code__in={r.carrier_code for r in records if r.carrier_code})}
        order_keys = {(r.platform, r.order_id) for r in records}
        orders = {
            (o.platform, o.order_id): o
            for o in Order.objects.filter(order_id__in={k[1] for k in order_keys})
            if (o.platform, o.order_id) in order_keys
        }
        parcels_of: dict[int, list] = {}
        for parcel in Parcel.objects.filter(order__in=list(orders.values())):
            parcels_of.setdefault(parcel.order_id, []).append(parcel)
        by_tracking = {
            (p.carrier_id, p.tracking_no): p
            for p in Parcel.objects.filter(tracking_no__in={r.tracking_no for r in records if r.tracking_no}).select_related(
                "order"
            )
        }

        new_orders, dirty_orders, new_parcels, dirty_parcels = [], set(), [], set()
        new_parcels_of: dict[tuple[str, str], list] = {}
        inserted = updated = unchanged = 0

        def carrier_for(code):
            if code not in carriers:
                carriers[code], _created = Carrier.objects.get_or_create(code=code, defaults={"name": code})
            return carriers[code]

        for r in records:
            key = (r.platform, r.order_id)
            order = orders.get(key)
            carrier = carrier_for(r.carrier_code) if r.carrier_code else None
            # Refuse before changing anything: a row is applied whole or reported.
            if r.tracking_no:
                owner = by_tracking.get((carrier.pk, r.tracking_no))
                same_order = owner is None or (
                    order is not None and (owner.order_id == order.pk if owner.pk else owner.order is order)
                )
                if not same_order:
                    self.reject(
                        r.line, "tracking_no",
                        _("tracking number %(tracking_no)s of %(carrier)s already belongs to order %(order)s")
                        % {"tracking_no": r.tracking_no, "carrier": r.carrier_code, "order": owner.order.order_id},
                    )
                    continue
            shop = shops.get(r.shop_code)
            if shop is None:
                shop, _created = Shop.objects.get_or_create(
                    code=r.shop_code, defaults={"name": r.shop_code, "platform": r.platform, "seller_tier": r.seller_tier}
                )
                shops[r.shop_code] = shop
            row_inserted = row_updated = False
            if order is None:
                order = orders[key] = Order(
                    shop=shop, platform=r.platform, order_id=r.order_id,
                    **{name: getattr(r, name) for name in _ORDER_FIELDS},
                )
                new_orders.append(order)
                parcels_of_order = new_parcels_of.setdefault(key, [])
                row_inserted = True
            else:
                changes = {name: getattr(r, name) for name in _ORDER_FIELDS if getattr(order, name) != getattr(r, name)}
                if order.shop_id != shop.pk:
                    changes["shop"] = shop
                if changes:
                    for name, value in changes.items():
                        setattr(order, name, value)
                    if order.pk:
                        dirty_orders.add(order)
                    row_updated = True
                parcels_of_order = parcels_of.get(order.pk, []) if order.pk else []
                parcels_of_order = parcels_of_order + new_parcels_of.get(key, [])
                if changes:  # the parcels copy shop and paid_at from their order
                    for parcel in parcels_of_order:
                        if (parcel.shop_id, parcel.paid_at) != (order.shop.pk, order.paid_at):
                            parcel.shop, parcel.paid_at = order.shop, order.paid_at
                            if parcel.pk:
                                dirty_parcels.add(parcel)

            # The parcel this row describes.
            if r.tracking_no:
                parcel = by_tracking.get((carrier.pk, r.tracking_no))
                if parcel is None:
                    parcel = next((p for p in parcels_of_order if p.tracking_no is None), None)
            else:
                untracked = [p for p in parcels_of_order if p.tracking_no is None]
                parcel = untracked[0] if untracked else None
                if parcel is None and parcels_of_order:
                    # Every parcel of the order has its tracking number: this row is their past.
                    unchanged += not (row_inserted or row_updated)
                    updated += row_updated
                    continue
            if parcel is None:
                parcel = Parcel(order=order, shop=order.shop, platform=order.platform, paid_at=order.paid_at)
                new_parcels.append(parcel)
                new_parcels_of.setdefault(key, []).append(parcel)
                row_inserted = True
            if self._fill_parcel(parcel, r, carrier, STATUS_RANK, ParcelStatus):
                row_updated = True
                if parcel.pk:
                    dirty_parcels.add(parcel)
            if r.tracking_no:
                by_tracking[(carrier.pk, r.tracking_no)] = parcel
            if row_inserted:
                inserted += 1
            elif row_updated:
                updated += 1
            else:
                unchanged += 1

        Order.objects.bulk_create(new_orders)
        Order.objects.bulk_update(dirty_orders, [*_ORDER_FIELDS, "shop"])
        for parcel in new_parcels:
            parcel.order = parcel.order  # picks up the order's new primary key
            parcel.shop = parcel.order.shop
        Parcel.objects.bulk_create(new_parcels)
        now = timezone.now()
        for parcel in dirty_parcels:
            parcel.updated_at = now
        Parcel.objects.bulk_update(
            dirty_parcels,
            ["shop", "paid_at", "carrier", "tracking_no", "shipped_at", "rts_at", "status", "updated_at"],
        )
        changed_ids = [p.pk for p in new_parcels] + [p.pk for p in dirty_parcels]
        if changed_ids:
            send_parcels_changed(parcel_ids=sorted(changed_ids), reason="orders")
        return inserted, updated, unchanged

    @staticmethod
    def _fill_parcel(parcel, r: OrderRecord, carrier, status_rank, statuses) -> bool:
        """Copy the row's carrier, tracking number and milestones onto the parcel; True if it changed."""
        changed = False
        if carrier is not None and parcel.carrier_id != carrier.pk:
            parcel.carrier, changed = carrier, True
        if r.tracking_no and parcel.tracking_no != r.tracking_no:
            parcel.tracking_no, changed = r.tracking_no, True
        for name in ("shipped_at", "rts_at"):
            value = getattr(r, name)
            if value is not None and getattr(parcel, name) != value:
                setattr(parcel, name, value)
                changed = True
        target = statuses.READY_TO_SHIP if parcel.rts_at else statuses.SHIPPED if parcel.shipped_at else statuses.PAID
        if status_rank[target] > status_rank[parcel.status or statuses.PAID]:
            parcel.status, changed = target, True
        return changed
