"""ProgressBar: the one progress bar, for training loops (steps) and downloads (bytes)."""
import io

from minigan.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_steps_with_figures_in_a_log():
    log = io.StringIO()  # not a terminal: whole lines, the first at once and the last at the end
    bar = ProgressBar(1000, desc="epoch 1/5", stream=log)
    for _ in range(1000):
        bar.update(1, d_loss=0.69, g_loss=0.7)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue()  # close does not repeat the last line
    assert lines[0].startswith("epoch 1/5 [") and "  0% 1/1000 " in lines[0]
    assert f"[{'#' * 24}] 100% 1000/1000 " in lines[1] and "/s  d_loss 0.69  g_loss 0.7" in lines[1]


def test_a_terminal_line_is_redrawn_in_place():
    screen = Terminal()
    bar = ProgressBar(4, desc="epoch 1", stream=screen)
    for _ in range(4):
        bar.update(1)
    bar.close()
    text = screen.getvalue()
    assert text.startswith("\repoch 1 [") and text.endswith("\n") and text.count("\n") == 1
    assert "100% 4/4" in text


def test_bytes_are_shown_in_megabytes():
    log = io.StringIO()
    bar = ProgressBar(9_900_000, desc="  downloading x.gz", stream=log, count_bytes=True)
    bar.update(4_100_000)
    bar.close()
    assert " 41% 4.1 / 9.9 MB " in log.getvalue() and " MB/s" in log.getvalue()


def test_an_unknown_total_shows_what_has_arrived():
    log = io.StringIO()
    bar = ProgressBar(None, desc="  downloading x.gz", stream=log, count_bytes=True)
    bar.update(250_000)
    bar.update(250_000)
    bar.close()
    last = log.getvalue().splitlines()[-1]
    assert last.startswith("  downloading x.gz 0.5 MB ") and "[" not in last and "%" not in last


def test_a_disabled_bar_writes_nothing():
    log = io.StringIO()
    bar = ProgressBar(3, stream=log, enabled=False)
    bar.update(3)
    bar.close()
    assert log.getvalue() == ""
