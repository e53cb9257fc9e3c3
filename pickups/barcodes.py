"""Code 128 barcodes for bag labels and handover sheets, drawn as inline SVG on the server.

python-barcode encodes the value (character set choice, check digit, stop pattern); the SVG is
drawn here with a viewBox in module units so that the label's CSS can size it to the print area
while every bar keeps its proportion.
"""

import logging
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

QUIET_ZONE_MODULES = 10  # Code 128 needs at least 10 modules of white on each side


def code128_modules(value: str) -> str:
    """The bar pattern as '1' (bar) and '0' (space) modules."""
    # Imported here: python-barcode logs "Pillow not found" at import, and SVG output needs no Pillow.
    logging.getLogger("pyBarcode").setLevel(logging.WARNING)
    import barcode

    return barcode.get("code128", value).build()[0]


def code128_svg(value: str, *, height: int = 40, css_class: str = "barcode") -> SafeString:
    """An <svg> element encoding `value` in Code 128 (no human-readable text: templates print it)."""
    modules = code128_modules(value)
    width = len(modules) + 2 * QUIET_ZONE_MODULES
    bars = "".join(
        f'<rect x="{match.start() + QUIET_ZONE_MODULES}" y="0" width="{len(match.group())}" height="{height}"/>'
        for match in re.finditer("1+", modules)
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="{escape(value)}">'
        f'<rect width="{width}" height="{height}" fill="#fff"/><g fill="#000">{bars}</g></svg>'
    )
    return mark_safe(svg)  # noqa: S308 - built from digits and escaped text only
