"""A small text progress bar with live figures, for training loops and downloads.

    bar = ProgressBar(total=1000, desc="epoch 1")
    for step in range(1000):
        ...
        bar.update(1, d_loss=0.69, g_loss=0.72)
    bar.close()

prints (the figures are the latest ones given)::

    epoch 1 [#########...............]  38% 380/1000 00:15<00:24 25.3/s  d_loss 0.69  g_loss 0.72

A download counts bytes instead (``count_bytes=True``: shown in MB), and may not know its total
(``total=None``: a server that does not say the size), which leaves out the bar and the time left.

On a terminal it redraws one line in place (at most ~10 times a second); elsewhere (CI logs, a
file) it prints a line every ``log_every`` seconds instead, so logs stay readable.
"""
import sys
import time


class ProgressBar:
    """``total`` steps (None: not known); ``update(n, **figures)`` after each; ``close()`` at the end."""

    def __init__(self, total, desc="", width=24, stream=None, enabled=True, log_every=30.0,
                 count_bytes=False):
        self.total, self.desc, self.width, self.count_bytes = total, desc, width, count_bytes
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_every = log_every
        self.count, self.figures = 0, {}
        self.start = self.last_draw = time.perf_counter()
        self._drawn_once = False
        self._shown = None  # the count and figures of the last line drawn

    def update(self, n=1, **figures):
        """Advance by ``n`` and show the latest ``figures`` (name=value pairs)."""
        self.count += n
        self.figures.update(figures)
        now = time.perf_counter()
        interval = 0.1 if self.interactive else self.log_every
        finished = self.total is not None and self.count >= self.total
        if self.enabled and (now - self.last_draw >= interval or finished or not self._drawn_once):
            self._draw(now)

    def _draw(self, now):
        self.last_draw, self._drawn_once = now, True
        self._shown = (self.count, dict(self.figures))
        elapsed = now - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        speed = f"{rate / 1e6:.1f} MB/s" if self.count_bytes else f"{rate:.1f}/s"
        if self.total is None:  # only what has been done so far: no bar, share or time left
            progress = f"{self._amount(self.count)} {_clock(elapsed)}"
        else:
            done = min(self.count / self.total, 1.0) if self.total else 0.0
            filled = int(round(done * self.width))
            left = max(self.total - self.count, 0) / rate if rate > 0 else 0.0
            progress = (f"[{'#' * filled}{'.' * (self.width - filled)}] {int(100 * done):3d}% "
                        f"{self._amount(self.count, self.total)} {_clock(elapsed)}<{_clock(left)}")
        figures = "  ".join(f"{k} {_fmt(v)}" for k, v in self.figures.items())
        line = f"{self.desc} {progress} {speed}  {figures}"
        if self.interactive:
            self.stream.write("\r" + line[:200].ljust(80))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        """Draw the final state and end the line (in a log: unless the last line shows it already)."""
        if self.enabled:
            if self.interactive or self._shown != (self.count, self.figures):
                self._draw(time.perf_counter())
            if self.interactive:
                self.stream.write("\n")
                self.stream.flush()

    def _amount(self, count, total=None):
        """``count`` (of ``total``) as shown: "380/1000", or in MB for bytes: "4.1 / 9.9 MB"."""
        if not self.count_bytes:
            return f"{count}" if total is None else f"{count}/{total}"
        shown = f"{count / 1e6:.1f}" if total is None else f"{count / 1e6:.1f} / {total / 1e6:.1f}"
        return shown + " MB"  # megabytes of 10^6 bytes, as file sizes are usually given


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _clock(seconds):
    m, s = divmod(int(seconds), 60)
    return f"{m:02d}:{s:02d}" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d}"
