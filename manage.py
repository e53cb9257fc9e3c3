#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    # Development settings unless told otherwise: `make demo` and the README's commands run on a fresh checkout.
    # Production runs it with DJANGO_SETTINGS_MODULE=config.settings.production (scripts/serve exports it).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
