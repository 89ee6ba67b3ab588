"""Tool cards: one per call, filling in as it streams, then its result.

A card shows the function name, the call id, the arguments (the raw
fragments while streaming; pretty JSON once complete; malformed JSON as it
came, with a warning) and a status: pending -> running -> done / error,
then the result. Everything from the model and from tools is escaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._events import StreamEvent, ToolCallDelta
from ._colours import ERROR, tone
from ._escape import escape_html, inert_html

if TYPE_CHECKING:  # pragma: no cover
    from .._tools import ToolOutcome

__all__ = ["ToolCardPart"]

#: Each status's hue, toned to read on a light and a dark theme (``_colours``).
_COLOURS = {s: tone(hue) for s, hue in (("pending", "#999"), ("running", "#c80"),
            ("done", "#2a6"), ("error", "#c33"), ("waiting", "#36c"))}  # fmt: skip


@dataclass
class _Card:
    id: str | None = None
    name: str | None = None
    fragments: list[str] = field(default_factory=list)
    status: str = "pending"
    result: str | None = None
    complete: bool = False

    @property
    def arguments(self) -> str:
        return "".join(self.fragments)

    def shown_arguments(self) -> tuple[str, str | None]:
        """(text, warning): pretty JSON when complete and valid."""
        raw = self.arguments
        if not self.complete:
            return raw, None
        if not raw.strip():
            return "{}", None
        try:
            return json.dumps(json.loads(raw), indent=2, ensure_ascii=False), None
        except (ValueError, RecursionError):
            return raw, "the arguments are not valid JSON (shown as they came)"


class ToolCardPart:
    """A streaming part: the tool calls of choice ``index``."""

    def __init__(self, index: int = 0) -> None:
        self.index = index
        self._cards: dict[int, _Card] = {}

    def feed(self, event: StreamEvent) -> bool:
        if not isinstance(event, ToolCallDelta) or event.index != self.index:
            return False
        card = self._cards.setdefault(event.tool_index, _Card())
        if event.id and not card.id:
            card.id = event.id
        if event.name and not card.name:
            card.name = event.name
        if event.arguments:
            card.fragments.append(event.arguments)
        return True

    def finish(self) -> None:
        for card in self._cards.values():
            card.complete = True

    def name(self, call_id: str | None) -> str:
        """The name of the call ``call_id`` ("?" while unknown)."""
        return next((c.name or "?" for c in self._cards.values() if c.id == call_id), "?")

    def calls(self) -> list[str]:
        """Each call as one line of text: ``name(arguments)``."""
        return [f"{c.name or '?'}({c.arguments})" for _, c in sorted(self._cards.items())]

    def set_status(self, call_id: str | None, status: str, result: str | None = None) -> None:
        """Move a card along: ``running``, ``done``, ``error`` or ``waiting`` (for a person)."""
        for card in self._cards.values():
            if card.id == call_id:
                card.status = status
                if result is not None:
                    card.result = result

    def outcome(self, outcome: ToolOutcome) -> None:
        """Show what running a call gave (the loop's ``on_outcome``)."""
        self.set_status(outcome.call.id, outcome.status, outcome.content)

    def render(self) -> dict[str, str]:
        if not self._cards:
            return {}
        html, plain = [], []
        for _, card in sorted(self._cards.items()):
            args, warning = card.shown_arguments()
            colour = _COLOURS.get(card.status, _COLOURS["pending"])
            parts = [
                "<div class='nscale-toolcard' style='border:1px solid #8886;border-radius:6px;"
                "padding:4px 8px;margin:4px 0;font-size:90%'>",
                f"<b>{escape_html(card.name or '…')}</b> "
                f"<span class='nscale-tool-status' style='color:{colour}'>"
                f"[{escape_html(card.status)}]</span> "
                f"<span style='opacity:.75'>{escape_html(card.id or '')}</span>",
                f"<pre style='margin:4px 0;white-space:pre-wrap'>{escape_html(args)}</pre>",
            ]
            if warning:
                parts.append(f"<div style='color:{ERROR}'>⚠ {escape_html(warning)}</div>")
            if card.result is not None:
                parts.append(
                    "<div>result:<pre style='margin:2px 0;white-space:pre-wrap'>"
                    f"{escape_html(card.result)}</pre></div>"
                )
            parts.append("</div>")
            html.append("".join(parts))
            line = f"tool call {card.name}({args}) [{card.status}] {card.id or ''}"
            if warning:
                line += f"\n  warning: {warning}"
            if card.result is not None:
                line += f"\n  result: {card.result}"
            plain.append(line)
        return {"text/html": inert_html("".join(html)), "text/plain": "\n".join(plain)}
