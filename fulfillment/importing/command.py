"""`ImportCommand`: the thin management command around `run_import` (arguments, exit status).

Exit status: 0 all rows applied, 1 some rows rejected (see the error report), 2 the file was
refused whole (`ImportRefused`), 3 the database stopped answering (re-run the same command).
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

from core.commands import TranslatedHelpCommand

from .importer import Importer
from .runner import run_import


class ImportCommand(TranslatedHelpCommand):
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
