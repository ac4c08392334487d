"""A one-line progress bar for ``train_many``'s callback, drawn on a terminal only.

It shows epochs done out of the maximum, the best current cost, how many models are
still training and an upper bound on the time left (models may stop earlier). It
stays silent for the first ``delay`` seconds, so short runs print nothing, and when
the stream is not a terminal (a log file, a pipe, a test).
"""

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class ProgressBar:
    """Call it with each :class:`jaxperc.Progress`; ``close()`` ends the line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        delay: float = 1.0,
        width: int = 24,
    ):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled, self.delay, self.width = enabled, delay, width
        self.start = time.monotonic()
        self.first: tuple[float, int] | None = None
        self.drawn = False

    def line(self, progress, rate: float) -> str:
        """The bar's text for one Progress, at ``rate`` epochs per second."""
        total = max(progress.max_epochs, 1)
        done = min(progress.epoch, total)
        fill = round(self.width * done / total)
        bar = "#" * fill + "-" * (self.width - fill)
        eta = (total - done) / rate if rate > 0 else float("nan")
        eta_text = _clock(eta) if eta == eta else "?"
        return (
            f"[{bar}] epoch {done}/{total}  best cost {progress.best_cost:.4g}  "
            f"running {progress.n_running}/{progress.n_models}  "
            f"ETA ≤ {eta_text}"
        )

    def __call__(self, progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.first is None:  # measure speed from here: compiling is behind us
            self.first = (now, progress.epoch)
        if now - self.start < self.delay:
            return
        t0, e0 = self.first
        rate = (progress.epoch - e0) / (now - t0) if now > t0 else 0.0
        self.stream.write("\r" + self.line(progress, rate) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
