"""Progress of an import on stderr: tqdm's bar (share of the file, rows, rows/s) on a terminal, a plain
line now and then otherwise (cron and CI logs get no carriage returns)."""

from __future__ import annotations

import time
from typing import TextIO

from django.utils.translation import gettext as _
from tqdm import tqdm


class Progress:
    """A tqdm bar over the file's bytes on a terminal; a plain line every `interval` seconds otherwise."""

    def __init__(self, stream: TextIO, *, label: str, total_bytes: int, interval: float = 5.0):
        # A management command's OutputWrapper appends a newline to every write: use what it wraps.
        self.stream = getattr(stream, "_out", stream)
        self.label = label
        self.total_bytes = max(total_bytes, 1)
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval
        self.started = time.monotonic()
        self.last = self.started
        self.bar = (
            tqdm(total=self.total_bytes, desc=label, file=self.stream, unit="B", unit_scale=True, mininterval=0.2,
                 bar_format="{desc} {bar} {percentage:3.0f}% {postfix}", leave=True)
            if self.tty else None
        )  # fmt: skip

    def update(self, rows: int, bytes_read: int, *, final: bool = False) -> None:
        now = time.monotonic()
        rate = rows / max(now - self.started, 1e-6)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{rows:,} rows {rate:,.0f} rows/s", refresh=False)
            self.bar.update(min(bytes_read, self.total_bytes) - self.bar.n)
            if final:
                self.bar.close()
            return
        if not final and now - self.last < self.interval:
            return
        self.last = now
        if final or rows:
            share = min(bytes_read / self.total_bytes, 1.0)
            self.stream.write(
                _("%(label)s: %(rows)s rows read (%(share)s), %(rate)s rows/s\n")
                % {"label": self.label, "rows": f"{rows:,}", "share": f"{share:.0%}", "rate": f"{rate:,.0f}"}
            )
            self.stream.flush()
