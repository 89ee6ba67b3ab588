"""``%chat history``: a thread as a transcript (escaped HTML + plain text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .._types import Message
from ._colours import tone
from ._escape import escape_html, inert_html
from ._images import images_html, images_text

__all__ = ["transcript_bundle"]

#: Each role's hue, toned to read on a light and a dark theme (``_colours``).
_HUES = {"system": "#888", "user": "#2a6", "assistant": "#36c", "tool": "#a60"}
_COLOURS = {role: tone(hue) for role, hue in _HUES.items()}


def _describe(message: Message) -> str:
    text = message.text
    if pictures := message.images:
        text = f"{text}\n{images_text(pictures)}" if text else images_text(pictures)
    for call in message.tool_calls:
        text += f"\n-> {call.name}({call.arguments})  [{call.id}]"
    if message.tool_call_id:
        text = f"[{message.tool_call_id}] {text}"
    if message.truncated:
        text += "\n[cut off]"
    return text


def transcript_bundle(name: str, messages: Sequence[Message]) -> dict[str, str]:
    plain = [f"thread {name}: {len(messages)} messages"]
    rows = []
    for m in messages:
        body = _describe(m)
        plain.append(f"{m.role}: {body}")
        colour = _COLOURS.get(m.role, _COLOURS["system"])
        shown = _describe(replace(m, content=m.text)) if m.images else body
        rows.append(
            f"<div style='margin:4px 0'><b style='color:{colour}'>{escape_html(m.role)}</b>"
            f"<div style='white-space:pre-wrap;margin-left:1em'>{escape_html(shown)}</div>"
            f"{images_html(m.images)}</div>"
        )
    html = (
        f"<div class='nscale-history'><i>thread {escape_html(name)}</i>"
        f"{''.join(rows) or ' (empty)'}</div>"
    )
    return {"text/plain": "\n".join(plain), "text/html": inert_html(html)}
