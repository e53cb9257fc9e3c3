"""`process_pushes [--older-than SECONDS]`: process the verified pushes a failure left unprocessed."""

import datetime

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import TranslatedHelpCommand
from live.services import push_deliveries_retry


class Command(TranslatedHelpCommand):
    help = gettext_lazy("Process again the verified push deliveries that are still unprocessed (oldest first).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=60,
            metavar="SECONDS",
            help=gettext_lazy("only deliveries received at least this long ago (default 60: not those a worker has in hand)"),
        )
        parser.add_argument("--limit", type=int, default=1000, help=gettext_lazy("at most this many deliveries"))

    def handle(self, *args, **options):
        processed, failed = push_deliveries_retry(
            older_than=datetime.timedelta(seconds=max(options["older_than"], 0)), limit=options["limit"]
        )
        self.stdout.write(_("%(processed)s processed, %(failed)s failed again") % {"processed": processed, "failed": failed})
        if failed:
            raise CommandError(_("%(failed)s deliveries failed again; see the log") % {"failed": failed}, returncode=1)
