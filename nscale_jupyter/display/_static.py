"""Widgets displayed with a static form, for pages where they cannot show.

An ipywidgets output is a model reference: with no widget manager (a static
HTML export, GitHub, nbviewer, a notebook opened untrusted) a front end falls
back to the bundle's other types, which ipywidgets fills with the Python
repr (``VBox(children=...)``). A widget shown here carries instead a
``text/plain`` (and, if given, ``text/html``) that says what it is or was.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WIDGET_VIEW", "show_widget", "widget_bundle"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def widget_bundle(widget: Any, text: str, html: str | None = None) -> dict[str, Any]:
    """The widget's view, and ``text`` (``html``, escaped already) where it cannot show."""
    bundle: dict[str, Any] = {
        WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
        "text/plain": text,
    }
    if html is not None:
        bundle["text/html"] = html
    return bundle


def show_widget(widget: Any, text: str, html: str | None = None, *, handle: bool = False) -> Any:
    """Display ``widget`` with its static form; the display handle if ``handle``."""
    from IPython.display import display

    return display(widget_bundle(widget, text, html), raw=True, display_id=handle or None)
