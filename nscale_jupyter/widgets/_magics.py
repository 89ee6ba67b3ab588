"""``%chat panel``."""

from __future__ import annotations

from typing import Any

from .._magics import ChatMagics, subcommand


@subcommand("panel")
def _panel(m: ChatMagics, rest: str) -> Any:
    """%chat panel: live sampling controls bound to the session settings."""
    from . import panel

    m.last_panel = panel(m.session)
