"""Progress of an import on stderr: a bar with rows/s on a terminal, a plain line now and then otherwise."""

from __future__ import annotations

import time
from typing import TextIO

from django.utils.translation import gettext as _


class Progress:
    """A bar with rows/s on a terminal; a plain line every `interval` seconds otherwise."""

    def __init__(self, stream: TextIO, *, label: str, total_bytes: int, interval: float = 5.0):
        # A management command's OutputWrapper appends a newline to every write: use what it wraps.
        self.stream = getattr(stream, "_out", stream)
        self.label = label
        self.total_bytes = max(total_bytes, 1)
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else interval
        self.started = time.monotonic()
        self.last = self.started

    def update(self, rows: int, bytes_read: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = rows / elapsed
        share = min(bytes_read / self.total_bytes, 1.0)
        if self.tty:
            width = 30
            filled = int(width * share)
            bar = "█" * filled + "░" * (width - filled)
            end = "\n" if final else ""
            self.stream.write(f"\r{self.label} {bar} {share:4.0%} {rows:,} rows {rate:,.0f} rows/s{end}")
        elif final or rows:
            self.stream.write(
                _("%(label)s: %(rows)s rows read (%(share)s), %(rate)s rows/s\n")
                % {"label": self.label, "rows": f"{rows:,}", "share": f"{share:.0%}", "rate": f"{rate:,.0f}"}
            )
        self.stream.flush()
