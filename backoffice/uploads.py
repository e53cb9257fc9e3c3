"""Upload an import file in the admin: the same importers as the management commands, for one file at a time.

The page lists only the kinds of file the user may import (`upload_kinds`); operators and superusers
hold `fulfillment.add_importrun`, the groups do not. Uploads are size-limited
(`IMPORT_MAX_UPLOAD_BYTES`) and type-checked (extension, no binary content, a readable encoding)
before anything is written; the importer then applies each row or reports it, as the commands do.
"""

import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
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
from monitoring.importers import RouteStandardImporter, TicketImporter
from pickups.importers import CoverageImporter, PickupConfirmationImporter

ALLOWED_SUFFIXES = (".csv", ".jsonl", ".json", ".txt")
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
        help_text=gettext_lazy("CSV (UTF-8, UTF-8 with BOM or GB18030) or JSON Lines, with the columns of the import."),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("Dry run: check every row, write nothing"), required=False)

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
                _("%(name)s is not a CSV or JSON Lines file (allowed: %(allowed)s).")
                % {"name": upload.name, "allowed": ", ".join(ALLOWED_SUFFIXES)}
            )
        head = upload.read(4096)
        upload.seek(0)
        if b"\x00" in head:
            raise forms.ValidationError(_("%(name)s holds binary data, not text.") % {"name": upload.name})
        return upload


def import_upload_view(request, site):
    """The page of `site`, which mounts it in its `get_urls` behind `admin_view`."""
    kinds = kinds_for(request.user)
    if not kinds:
        raise PermissionDenied
    report = rejects = None
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        importer = kinds[form.cleaned_data["command"]].importer(by=request.user)
        try:
            report = _run(importer, form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"])
        except ImportRefused as refused:
            form.add_error("file", str(refused))
        else:
            with open(report.error_report, encoding="utf-8-sig", newline="") as errors:
                rejects = list(csv.DictReader(errors))[:SHOWN_REJECTS]
    context = {
        **site.each_context(request),
        "title": _("Import a file"),
        "form": form,
        "report": report,
        "rejects": rejects,
        "shown_rejects": SHOWN_REJECTS,
    }
    return TemplateResponse(request, "admin/import_upload.html", context)


def _run(importer, upload, *, dry_run: bool):
    """The importers read paths: write the upload to a private temporary directory first."""
    workdir = Path(tempfile.mkdtemp(prefix="parcel-upload-"))
    path = workdir / (get_valid_filename(Path(upload.name).name) or "upload.csv")
    with path.open("wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    return run_import(
        importer,
        path,
        dry_run=dry_run,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        errors_path=str(workdir / "errors.csv"),
    )
