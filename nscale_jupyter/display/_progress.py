"""A batch's progress: an ipywidgets bar in a notebook, one plain line in a terminal.

The bar's output also carries its last line as text, for pages with no widgets.

Updated at most 4 times a second (``INTERVAL``), from whichever thread
reports; the last update (the batch finished) always shows.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from .._rows import Progress
from ._static import show_widget, widget_bundle

__all__ = ["INTERVAL", "ProgressView", "in_notebook"]

#: Seconds between two updates at most 4 times a second.
INTERVAL = 0.25


def in_notebook() -> bool:
    """True in a Jupyter kernel (widgets can show), False in a terminal or script."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class ProgressView:
    """``update(progress)`` draws (throttled); ``widget`` is the bar (notebook only)."""

    def __init__(self, total: int, *, rich: bool | None = None, label: str = "batch") -> None:
        self.rich = in_notebook() if rich is None else rich
        self.label = label
        self.draws = 0
        self._last = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self.widget: Any = None
        if self.rich:
            import ipywidgets as w

            self._bar = w.IntProgress(value=0, min=0, max=max(1, total), description=label)
            self._text = w.HTML(value=f"0/{total}")
            self.widget = w.HBox([self._bar, self._text])
            self._handle = show_widget(self.widget, f"{label}: 0/{total}", handle=True)

    def update(self, progress: Progress, *, force: bool = False) -> None:
        final = progress.finished or force
        now = time.monotonic()
        with self._lock:
            if self._closed or (not final and now - self._last < INTERVAL):
                return
            self._last = now
            self.draws += 1
            if final:
                self._closed = True
        line = progress.line() + f", {progress.elapsed:.1f} s"
        if self.rich:
            self._bar.value = progress.done + progress.failed
            self._bar.bar_style = (
                ("danger" if progress.failed else "success") if progress.finished else ""
            )
            self._text.value = line
            if final:  # where the bar cannot show, its last line does
                self._handle.update(widget_bundle(self.widget, f"{self.label}: {line}"), raw=True)
        else:
            end = "\n" if final else ""
            print(f"\r{self.label}: {line}", end=end, file=sys.stderr, flush=True)
