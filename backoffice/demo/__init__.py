"""The demo week: `planner` draws it as plain records (no database), `replay` plays it through the
importers and services, `seed_demo` (backoffice.management.commands) runs both."""
