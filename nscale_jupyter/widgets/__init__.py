"""The ipywidgets panel (imported on first use: ``%chat panel`` or ``panel()``)."""

from __future__ import annotations

from typing import Any

__all__ = ["panel"]


def panel(session: Any = None) -> Any:
    """Show the sampling panel bound to ``session`` (the magics' session by default)."""
    from IPython.display import display

    from .._api import default_session
    from ._panel import Panel

    p = Panel(session if session is not None else default_session())
    display(p.widget)
    return p
