"""The ipywidgets panel (imported on first use: ``%chat panel`` or ``panel()``)."""

from __future__ import annotations

from typing import Any

__all__ = ["branch_picker", "panel"]


def panel(session: Any = None) -> Any:
    """Show the sampling panel bound to ``session`` (the magics' session by default)."""
    from .._api import default_session
    from ._panel import Panel

    p = Panel(session if session is not None else default_session())
    p.show()
    return p


def branch_picker(result: Any, session: Any = None) -> Any:
    """Show buttons that branch ``result`` at its alternatives (``%%chat --branch``)."""
    from ..display._static import show_widget
    from ._picker import BranchPicker

    picker = BranchPicker(result, session)
    show_widget(
        picker.widget,
        "branch picker: its buttons show in a running notebook "
        "(the heatmap's table lists every token's alternatives)",
    )
    return picker
