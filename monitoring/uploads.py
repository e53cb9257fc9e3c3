"""Upload an import file in the admin: the same importers as the management commands, for one file at a time.

Only users with `fulfillment.add_importrun` (operators; superusers) see it. Uploads are size-limited
(`IMPORT_MAX_UPLOAD_BYTES`) and type-checked (extension, no binary content, a readable encoding)
before anything is written; the importer then applies each row or reports it, as the commands do.
"""

import csv
import io
import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.text import get_valid_filename
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

IMPORTERS = {
    importer.command: importer
    for importer in (
        OrderImporter,
        EventImporter,
        RegionImporter,
        HolidayImporter,
        RouteStandardImporter,
        CoverageImporter,
        TicketImporter,
        PickupConfirmationImporter,
    )
}
ALLOWED_SUFFIXES = (".csv", ".jsonl", ".json", ".txt")
SHOWN_REJECTS = 100


class ImportUploadForm(forms.Form):
    command = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=[(c, c) for c in IMPORTERS])
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8, UTF-8 with BOM or GB18030) or JSON Lines, with the columns of the import."),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("Dry run: check every row, write nothing"), required=False)

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


def import_upload_view(request):
    if not request.user.has_perm("fulfillment.add_importrun"):
        raise PermissionDenied
    report = rejects = None
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        workdir = Path(tempfile.mkdtemp(prefix="parcel-upload-"))
        path = workdir / (get_valid_filename(Path(upload.name).name) or "upload.csv")
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        importer = IMPORTERS[form.cleaned_data["command"]](by=request.user)
        try:
            report = run_import(
                importer,
                path,
                dry_run=form.cleaned_data["dry_run"],
                stdout=io.StringIO(),
                stderr=io.StringIO(),
                errors_path=str(workdir / "errors.csv"),
            )
        except ImportRefused as refused:
            form.add_error("file", str(refused))
        else:
            with open(report.error_report, encoding="utf-8-sig", newline="") as errors:
                rejects = list(csv.DictReader(errors))[:SHOWN_REJECTS]
    context = {
        **admin.site.each_context(request),
        "title": _("Import a file"),
        "form": form,
        "report": report,
        "rejects": rejects,
        "shown_rejects": SHOWN_REJECTS,
    }
    return TemplateResponse(request, "admin/import_upload.html", context)
