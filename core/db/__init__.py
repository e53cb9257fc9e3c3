"""Everything that differs between PostgreSQL and SQLite lives in this package.

`expressions`: Django expressions with per-vendor `as_<vendor>` methods (as Django's own
`Greatest`/`Least`). `dialect`: statement-level differences (COPY vs executemany, locks, temporary
tables). Business code asks these; it never tests `connection.vendor` itself.
"""
