"""Which paper a user prints labels and handover sheets on (their printer preference)."""

from __future__ import annotations

from pickups.models import LabelFormat, PrinterPreference


def printer_preference_set(*, user, label_format: str) -> PrinterPreference:
    """Save `user`'s label format (A4 or 100 × 150 mm thermal); an unknown format is refused."""
    if label_format not in LabelFormat.values:
        raise ValueError(f"unknown label format: {label_format!r}")
    preference, _created = PrinterPreference.objects.update_or_create(
        user=user, defaults={"label_format": label_format}
    )
    return preference

