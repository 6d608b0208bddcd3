"""A small text progress bar with live figures, for training loops and downloads.

    bar = ProgressBar(total=1000, desc="epoch 1")
    for step in range(1000):
        ...
        bar.update(1, d_loss=0.69, g_loss=0.72)
    bar.close()

On a terminal it redraws one line in place (at most ~10 times a second); elsewhere (CI logs, a
file) it prints a line every ``log_every`` seconds instead, so logs stay readable.
"""
import sys
import time


class ProgressBar:
    def __init__(self, total, desc="", width=24, stream=None, enabled=True, log_every=30.0):
        self.total, self.desc, self.width = total, desc, width
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_every = log_every
        self.count, self.figures = 0, {}
        self.start = self.last_draw = time.perf_counter()
        self._drawn_once = False

    def update(self, n=1, **figures):
        """Advance by ``n`` and show the latest ``figures`` (name=value pairs)."""
        self.count += n
        self.figures.update(figures)
        now = time.perf_counter()
        interval = 0.1 if self.interactive else self.log_every
        if self.enabled and (now - self.last_draw >= interval or self.count >= self.total
                             or not self._drawn_once):
            self._draw(now)

    def _draw(self, now):
        self.last_draw, self._drawn_once = now, True
        elapsed = now - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        done = min(self.count / self.total, 1.0) if self.total else 0.0
        filled = int(round(done * self.width))
        eta = (self.total - self.count) / rate if rate > 0 and self.total else 0.0
        figures = "  ".join(f"{k} {_fmt(v)}" for k, v in self.figures.items())
        line = (f"{self.desc} [{'#' * filled}{'.' * (self.width - filled)}] {self.count}/{self.total} "
                f"{_clock(elapsed)}<{_clock(eta)} {rate:.1f}/s  {figures}")
        if self.interactive:
            self.stream.write("\r" + line[:200].ljust(80))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(time.perf_counter())
            if self.interactive:
                self.stream.write("\n")
                self.stream.flush()


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _clock(seconds):
    m, s = divmod(int(seconds), 60)
    return f"{m:02d}:{s:02d}" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d}"
