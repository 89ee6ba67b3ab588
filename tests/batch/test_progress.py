"""The progress display: at most 4 updates a second, the last one always shown."""

from __future__ import annotations

import pytest

from nscale_jupyter._rows import Progress
from nscale_jupyter.display._progress import ProgressView


def test_text_progress_is_throttled_and_ends_with_the_final_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = ProgressView(100, rich=False)
    for i in range(100):
        view.update(Progress(100, done=i, tokens=10 * i, elapsed=0.01 * i + 0.01))
    view.update(Progress(100, done=100, tokens=1000, elapsed=1.0, finished=True))
    view.update(Progress(100, done=100, tokens=1000, elapsed=1.1, finished=True))
    err = capsys.readouterr().err
    assert view.draws == 2  # the first and the final one: the rest came within 250 ms
    assert err.endswith("\n") and "100/100 done, 0 failed, 0 retried, 1,000 tokens" in err


def test_widget_progress_shows_done_failed_and_rate() -> None:
    from IPython.utils.capture import capture_output

    from tests.magics.conftest import ipython_shell

    ipython_shell()
    with capture_output() as shown:
        view = ProgressView(10, rich=True)
        view.update(Progress(10, 7, 3, retried=2, tokens=50, elapsed=2.0, finished=True))
    assert view._bar.value == 10 and view._bar.bar_style == "danger"
    assert "7/10 done, 3 failed, 2 retried, 50 tokens, 5.0/s" in view._text.value
    first, last = (o.data for o in shown.outputs)
    assert "application/vnd.jupyter.widget-view+json" in last  # still the bar, live
    # Where widgets cannot show (a static page), the bar's last line does, not HBox(...).
    assert first["text/plain"] == "batch: 0/10"
    assert last["text/plain"].startswith("batch: 7/10 done, 3 failed")


def test_progress_line_and_time_left() -> None:
    p = Progress(100, done=20, failed=5, resumed=5, elapsed=4.0)
    assert p.rate == 5.0 and p.time_left == 15.0
    assert "s left" in p.line() and Progress(3).time_left is None
