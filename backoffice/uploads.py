"""Upload an import file in the admin: the same importers as the management commands, for one file at a time.

The page lists only the kinds of file the user may import (`upload_kinds`); operators and superusers
hold `fulfillment.add_importrun`, the groups do not. Uploads are size-limited
(`IMPORT_MAX_UPLOAD_BYTES`) and type-checked (extension, no binary content, a readable encoding)
before anything is written; the importer then applies each row or reports it, as the commands do.
"""

import csv
import io
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst, format_lazy, get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fulfillment.importers import (
    EventImporter,
    HolidayImporter,
    ImportRefused,
    OrderImporter,
    RegionImporter,
    run_import,
)
from fulfillment.models import ImportRun
from monitoring.importers import RouteStandardImporter, TicketImporter
from pickups.importers import CoverageImporter, PickupConfirmationImporter

ALLOWED_SUFFIXES = (".csv", ".jsonl", ".json", ".txt", ".xlsx")
XLSX_MAGIC = b"PK\x03\x04"
SHOWN_REJECTS = 100
IMPORT_PERMISSION = "fulfillment.add_importrun"


@dataclass(frozen=True)
class UploadKind:
    """One kind of file the page accepts: the importer of its `import_*` command, what a clerk calls
    it, and the permission that lets a user upload it."""

    importer: type
    name: str

    @property
    def permissions(self) -> tuple[str, ...]:
        """The upload permission and the importer's own: the page never writes what the user could not."""
        return (IMPORT_PERMISSION, self.importer.permission) if self.importer.permission else (IMPORT_PERMISSION,)

    @property
    def command(self) -> str:
        return self.importer.command

    @property
    def label(self) -> str:
        return format_lazy("{} ({})", capfirst(self.name), self.command)

    @property
    def title(self) -> str:
        return capfirst(self.name)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.importer.required_columns, *self.importer.optional_columns)

    @property
    def optional_columns(self) -> tuple[str, ...]:
        return self.importer.optional_columns


def upload_kinds() -> dict[str, UploadKind]:
    """Every importer of the three apps, by command name, in the order an operator loads a new shop."""
    kinds = (
        UploadKind(RegionImporter, gettext_lazy("regions")),
        UploadKind(HolidayImporter, gettext_lazy("holidays")),
        UploadKind(RouteStandardImporter, gettext_lazy("route standards")),
        UploadKind(CoverageImporter, gettext_lazy("pickup coverage")),
        UploadKind(OrderImporter, gettext_lazy("orders")),
        UploadKind(EventImporter, gettext_lazy("tracking events")),
        UploadKind(PickupConfirmationImporter, gettext_lazy("pickup confirmations")),
        UploadKind(TicketImporter, gettext_lazy("stagnation tickets and complaints")),
    )
    return {kind.command: kind for kind in kinds}


def kinds_for(user) -> dict[str, UploadKind]:
    """The kinds of file this user may upload; empty means the page is not theirs."""
    return {command: kind for command, kind in upload_kinds().items() if user.has_perms(kind.permissions)}


class ImportUploadForm(forms.Form):
    command = forms.ChoiceField(label=gettext_lazy("What the file holds"))
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (UTF-8, UTF-8 with BOM or GB18030), JSON Lines or an .xlsx workbook (its first sheet), "
            "with the columns of the import: see the table below, and its templates."
        ),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run"),
        help_text=gettext_lazy("Check every row and say what would be inserted or updated; nothing is written."),
        required=False,
    )

    def __init__(self, *args, kinds: dict[str, UploadKind], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["command"].choices = [(command, kind.label) for command, kind in kinds.items()]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("%(name)s is %(size).1f MB; files up to %(limit).1f MB can be uploaded. Run the import command for larger files.")
                % {"name": upload.name, "size": upload.size / 1e6, "limit": limit / 1e6}
            )
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                _("%(name)s is not a CSV, JSON Lines or .xlsx file (allowed: %(allowed)s).")
                % {"name": upload.name, "allowed": ", ".join(ALLOWED_SUFFIXES)}
            )
        head = upload.read(4096)
        upload.seek(0)
        is_workbook = head.startswith(XLSX_MAGIC)
        if is_workbook != (Path(upload.name).suffix.lower() == ".xlsx"):
            raise forms.ValidationError(
                _("%(name)s: its content does not match its name (an .xlsx workbook is a zip file, the others text).")
                % {"name": upload.name}
            )
        if not is_workbook and b"\x00" in head:
            raise forms.ValidationError(_("%(name)s holds binary data, not text.") % {"name": upload.name})
        return upload


def import_upload_view(request, site):
    """The page of `site`, which mounts it in its `get_urls` behind `admin_view`."""
    kinds = kinds_for(request.user)
    if not kinds:
        raise PermissionDenied
    report = rejects = report_token = None
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        importer = kinds[form.cleaned_data["command"]].importer(by=request.user)
        try:
            report, report_token = _run(importer, form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"], user=request.user)
        except ImportRefused as refused:
            form.add_error("file", str(refused))
        else:
            if report_token:
                with open(_report_path(report_token), encoding="utf-8-sig", newline="") as errors:
                    rejects = list(csv.DictReader(errors))[:SHOWN_REJECTS]
    context = {
        **site.each_context(request),
        "title": _("Import a file"),
        "form": form,
        "report": report,
        "rejects": rejects,
        "report_token": report_token,
        "shown_rejects": SHOWN_REJECTS,
        "kinds": kinds.values(),
    }
    return TemplateResponse(request, "admin/import_upload.html", context)


def import_template_view(request, site, command: str):
    """An empty file with the import's header, as CSV (UTF-8 with BOM, which spreadsheet tools open
    as such) or `.xlsx` (`?format=xlsx`), for the kinds this user may upload."""
    kind = kinds_for(request.user).get(command)
    if kind is None:
        raise Http404
    if request.GET.get("format") == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        book.active.title = command
        book.active.append(list(kind.columns))
        content = io.BytesIO()
        book.save(content)
        response = HttpResponse(
            content.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{command}.xlsx"'
        return response
    response = HttpResponse(("\ufeff" + ",".join(kind.columns) + "\r\n").encode("utf-8"), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{command}.csv"'
    return response


def import_report_view(request, site, token: str):
    """The error report of an upload, to the user who ran it (anyone else: not found)."""
    if not REPORT_TOKEN.fullmatch(token) or token.split("-", 1)[0] != str(request.user.pk):
        raise Http404
    path = _report_path(token)
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename="import-errors.csv", content_type="text/csv")


def _run(importer, upload, *, dry_run: bool, user):
    """The importers read paths: the upload goes to a private work folder, removed afterwards; an
    error report is kept (privately, for a day) for its user to download. Returns (report, token)."""
    workdir = Path(tempfile.mkdtemp(prefix="parcel-upload-"))
    name = get_valid_filename(Path(upload.name).name) or "upload.csv"
    path = workdir / name
    try:
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        try:
            report = run_import(
                importer,
                path,
                dry_run=dry_run,
                stdout=io.StringIO(),
                stderr=io.StringIO(),
                errors_path=str(workdir / "errors.csv"),
                source_label=_("upload: %(name)s") % {"name": name},
            )
        except ImportRefused as refused:  # the message names the work path: name the user's file instead
            raise ImportRefused(str(refused).replace(str(path), name)) from None
        token = _keep_report(workdir / "errors.csv", user) if report.rejected else None
        if report.run_id is not None:
            ImportRun.objects.filter(pk=report.run_id).update(error_report=token or "")
        return report, token
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


REPORT_TOKEN = re.compile(r"\d+-[0-9a-f]{32}")
REPORT_MAX_AGE_SECONDS = 24 * 3600


def _report_path(token: str) -> Path:
    return Path(settings.IMPORT_REPORTS_DIR) / f"{token}.csv"


def _keep_report(errors: Path, user) -> str:
    """Move an error report into the private reports folder under a unique name; drop reports older
    than a day."""
    folder = Path(settings.IMPORT_REPORTS_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - REPORT_MAX_AGE_SECONDS
    for old in folder.glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = f"{user.pk}-{uuid.uuid4().hex}"
    os.replace(errors, _report_path(token))
    os.chmod(_report_path(token), 0o600)
    return token
