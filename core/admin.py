"""Admin helpers shared by every app: run a service on each selected row and report what was done,
what was skipped and why (CONVENTIONS.md "Admin": actions call a service and say how many rows
changed and how many were skipped, and why)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


def messages_of(error: ValidationError) -> str:
    """A ValidationError's messages as one sentence line."""
    return " ".join(str(m) for m in error.messages)


def apply_each(rows: Iterable, service: Callable, *, label: Callable | None = None) -> tuple[int, list[str]]:
    """Call `service(row)` for each row (a queryset is taken in primary-key order; each call takes its
    own row lock); count the rows done and collect why the others were refused."""
    if hasattr(rows, "order_by"):
        rows = rows.order_by("pk")
    done, refused = 0, []
    for row in rows:
        try:
            service(row)
            done += 1
        except ValidationError as error:
            refused.append(f"{label(row)}: {messages_of(error)}" if label else messages_of(error))
    return done, refused


def report_applied(model_admin, request, *, refused: list[str], done_message: str) -> None:
    """The action's outcome: how many rows changed (`done_message`), and how many were skipped and why."""
    model_admin.message_user(request, done_message, messages.SUCCESS)
    if refused:
        model_admin.message_user(
            request,
            ngettext("%(count)d skipped: %(why)s", "%(count)d skipped: %(why)s", len(refused))
            % {"count": len(refused), "why": " ".join(refused)},
            messages.WARNING,
        )
