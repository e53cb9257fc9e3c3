"""Code 128 barcodes for bag labels and handover sheets, drawn as inline SVG on the server.

python-barcode encodes the value (character set choice, check digit, stop pattern); the SVG is
drawn here with a viewBox in module units so that the label's CSS can size it to the print area
while every bar keeps its proportion.
"""

import logging
import re
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

QUIET_ZONE_MODULES = 10  # Code 128 needs at least 10 modules of white on each side


def code128_modules(value: str) -> str:
    """The bar pattern as '1' (bar) and '0' (space) modules."""
    # Imported here: python-barcode logs "Pillow not found" at import, and SVG output needs no Pillow.
    logging.getLogger("pyBarcode").setLevel(logging.WARNING)
    import barcode

    return barcode.get("code128", value).build()[0]


# A 203 dpi thermal head has 8 dots per millimetre (203.2 dpi): a module of a whole number of dots
# (a multiple of 0.125 mm) prints every bar and space the same width, with no dot shared by a bar
# and a space (the grey, blurred edges that make scanners misread a barcode scaled to "100%").
DOT_MM = Decimal("0.125")
MAX_MODULE_DOTS = 4  # 0.5 mm: wide enough for any scanner, short enough to fit the label


def dot_aligned_module_mm(module_count: int, available_mm: Decimal) -> Decimal:
    """The widest module of whole dots (1 to MAX_MODULE_DOTS) with which `module_count` modules fit
    in `available_mm`; one dot when even that does not fit (the label then crops the quiet zone)."""
    dots = int(available_mm / (module_count * DOT_MM))
    return DOT_MM * max(1, min(dots, MAX_MODULE_DOTS))


def code128_svg(
    value: str,
    *,
    height: int = 40,
    css_class: str = "barcode",
    available_mm: Decimal | None = None,
    height_mm: Decimal | None = None,
) -> SafeString:
    """An <svg> element encoding `value` in Code 128 (no human-readable text: templates print it).

    With `available_mm` the SVG gets a physical width of whole 0.125 mm dots per module (the widest
    that fits) and `height_mm`, so printing never scales the bars; without, it stretches to its CSS
    box (the screen)."""
    modules = code128_modules(value)
    width = len(modules) + 2 * QUIET_ZONE_MODULES
    size = ""
    if available_mm is not None:
        module_mm = dot_aligned_module_mm(width, Decimal(available_mm))
        # Centred on whole dots too: the bars then start on a dot of the head, not between two.
        offset = DOT_MM * int((Decimal(available_mm) - module_mm * width) / 2 / DOT_MM) if module_mm * width < Decimal(available_mm) else 0
        size = (
            f'width="{module_mm * width}mm" height="{height_mm or 20}mm" data-module-mm="{module_mm}" '
            f'style="display:block;margin-left:{offset}mm" '
        )
    bars = "".join(
        f'<rect x="{match.start() + QUIET_ZONE_MODULES}" y="0" width="{len(match.group())}" height="{height}"/>'
        for match in re.finditer("1+", modules)
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" {size}viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="{escape(value)}">'
        f'<rect width="{width}" height="{height}" fill="#fff"/><g fill="#000">{bars}</g></svg>'
    )
    return mark_safe(svg)  # noqa: S308 - built from digits and escaped text only
