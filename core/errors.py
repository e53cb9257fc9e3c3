"""The domain's refusal: one exception for every refused transition, whatever the app."""

from django.core.exceptions import ValidationError


class TransitionNotAllowed(ValidationError):  # noqa: N818 - the name is the agreed interface (DESIGN.md)
    """A refused change of state; the message says why in a clerk's words."""
