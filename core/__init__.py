"""Shared pieces below every app: no models, no imports from the apps.

`errors` (the one `TransitionNotAllowed`), `timezones` (the one `shop_zone`), `db` (everything that
differs between PostgreSQL and SQLite), `admin` (mixins and the apply-each helper of admin actions).
"""
