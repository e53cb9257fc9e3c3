"""A management command whose `help` may be translatable (`gettext_lazy`): argparse formats the help
with a regular expression, which a lazy string fails (`manage.py scan_parcels --help` ended in a
traceback)."""

from django.core.management.base import BaseCommand


class TranslatedHelpCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
