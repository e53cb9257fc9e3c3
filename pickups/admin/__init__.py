"""The warehouse's screens: bags (scan, seal, label, claim evidence) and handover sheets (book, print,
cancel, confirm pickup). Every write goes through pickups.services; status is never a form field."""

from . import bags, coverage, printing, sheets  # noqa: F401 — each registers its ModelAdmin
