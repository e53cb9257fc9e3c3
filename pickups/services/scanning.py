"""What a barcode scanner sends, made into the tracking number we store.

A keyboard-wedge scanner types the code and a terminator (Enter, sometimes Tab or CR/LF); some are
set up to send the AIM symbology identifier first ("]C1" for Code 128, "]A0" for Code 39, "]Q1"
for QR …), Code 39 readers may pass on the "*" start/stop characters, and a clerk typing by hand
types lowercase or adds spaces. Tracking numbers are stored upper-case without spaces, so every
scan path (bags, handover sheets) reads codes through `normalize_tracking_number`.
"""

from __future__ import annotations

import re
import unicodedata

# "]" + symbology letter + modifier digit/letter, at the start (ISO/IEC 15424).
_AIM_IDENTIFIER = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_CODE39_STOPS = "*"


def _is_noise(char: str) -> bool:
    """Whitespace and control or format characters (CR, LF, Tab, GS, zero-width space, BOM …)."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def normalize_tracking_number(raw: str) -> str:
    """The tracking number in a scanned or typed code: no whitespace or control characters, no AIM
    identifier, no Code 39 "*" start/stop characters, upper-case. Empty when nothing is left."""
    text = unicodedata.normalize("NFKC", raw or "")  # full-width Ａ１ from a Chinese IME → A1
    text = "".join(char for char in text if not _is_noise(char))
    text = _AIM_IDENTIFIER.sub("", text, count=1)
    text = text.strip(_CODE39_STOPS)
    return text.upper()


_CODE_SEPARATORS = re.compile(r"[\r\n\t,;]+")


def split_scanned_codes(text: str) -> list[str]:
    """The codes in what the scan field received: one per line (the scanner's Enter), or pasted
    cells (tabs, commas, semicolons); spaces inside a code are typing, not a separator."""
    return normalize_tracking_numbers(_CODE_SEPARATORS.split(text or ""))


def normalize_tracking_numbers(raws) -> list[str]:
    """Each code normalised, the empty ones dropped, in the order scanned (duplicates kept)."""
    return [number for number in (normalize_tracking_number(raw) for raw in raws or ()) if number]
