from django.core.management.base import CommandError

from fulfillment.importers.reference import HolidayImporter
from fulfillment.importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import holidays and make-up working days (date,is_working_day,name), "
        "or fill a year of the mainland schedule with --year from the chinese-calendar package."
    )
    importer_class = HolidayImporter
    path_required = False

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--year", type=int, help="fill this year from the chinese-calendar package instead of a file")

    def importer_options(self, options):
        if options.get("year") is None and not options.get("path"):
            raise CommandError("Give a CSV/JSON Lines file or --year YEAR.")
        if options.get("year") is not None and options.get("path"):
            raise CommandError("Give either a file or --year, not both.")
        return {"year": options.get("year")}
