"""A thread as a versioned JSON transcript, and one logged turn as a JSON line. Pure.

The transcript is the exact form: every message (tool calls, tool messages,
images as their URLs, cut-off marks), each answer's reasoning and provenance,
the system prompt the thread sends, calls still waiting for a person, the
session's options and the thread's usage. ``Transcript.from_json`` reads it
back exactly, or raises :class:`TranscriptError` naming the first bad place
(``messages[3].content``). The key is never in any of it: messages hold what
the client kept after scrubbing, and options are request fields.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._exceptions import TranscriptError
from ._provenance import Provenance
from ._types import ContentPart, ImagePart, Message, TextPart, ToolCall

__all__ = ["FORMAT", "LOG_FORMAT", "VERSION", "Answer", "Transcript", "TranscriptError"]

FORMAT = "nscale-jupyter transcript"
LOG_FORMAT = "nscale-jupyter log"
VERSION = 1
_ROLES = ("system", "user", "assistant", "tool", "developer")

JSON = Any


@dataclass(frozen=True)
class Answer:
    """What a thread keeps of one answer beside its message: reasoning, provenance."""

    reasoning: str | None = None
    provenance: Provenance | None = None


@dataclass(frozen=True)
class Transcript:
    """One thread, as exported: ``answers`` maps a message's position to its answer."""

    thread: str
    messages: tuple[Message, ...] = ()
    system: str | None = None  # the system prompt the thread sends (None: none)
    answers: Mapping[int, Answer] = field(default_factory=dict)
    pending: tuple[ToolCall, ...] = ()
    options: Mapping[str, JSON] = field(default_factory=dict)
    usage: Mapping[str, JSON] = field(default_factory=dict)
    exported: str | None = None  # ISO 8601 UTC time
    version: str | None = None  # of nscale-jupyter that wrote it

    def to_json(self) -> dict[str, JSON]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "thread": self.thread,
            "exported": self.exported,
            "nscale_jupyter": self.version,
            "system": self.system,
            "messages": [
                message_json(m, self.answers.get(i)) for i, m in enumerate(self.messages)
            ],
            "pending": [call_json(c) for c in self.pending],
            "options": dict(self.options),
            "usage": dict(self.usage),
        }

    @classmethod
    def from_json(cls, data: JSON) -> Transcript:
        """Read a transcript back; TranscriptError names the first thing that is wrong."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise TranscriptError(f"not an nscale-jupyter transcript (no format {FORMAT!r})")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise TranscriptError("version: expected a whole number")
        if version > VERSION:
            raise TranscriptError(
                f"version {version}: written by a newer nscale-jupyter (this one reads {VERSION})"
            )
        name = _get(data, "thread", str, "thread")
        if not name.strip():
            raise TranscriptError("thread: empty name")
        messages, answers = [], {}
        for i, item in enumerate(_get(data, "messages", list, "messages")):
            message, answer = read_message(item, f"messages[{i}]")
            messages.append(message)
            if answer is not None:
                answers[i] = answer
        pending = _get(data, "pending", list, "pending", [])
        return cls(
            thread=name,
            messages=tuple(messages),
            system=_get(data, "system", str, "system", None),
            answers=answers,
            pending=tuple(read_call(c, i, f"pending[{i}]") for i, c in enumerate(pending)),
            options=_get(data, "options", Mapping, "options", {}),
            usage=_get(data, "usage", Mapping, "usage", {}),
            exported=_get(data, "exported", str, "exported", None),
            version=_get(data, "nscale_jupyter", str, "nscale_jupyter", None),
        )


def now() -> str:
    """The time now, as ISO 8601 UTC to the second (``2026-12-01T16:40:00Z``)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return stamp.isoformat().replace("+00:00", "Z")


# -- writing ---------------------------------------------------------------------------
def call_json(call: ToolCall) -> dict[str, JSON]:
    """A tool call as in the API, plus its ``index`` (the position among its siblings)."""
    return {**call.to_json(), "index": call.index}


def message_json(message: Message, answer: Answer | None = None) -> dict[str, JSON]:
    """A message as in the API, plus what the history keeps beside it."""
    out = message.to_json()
    if message.tool_calls:
        out["tool_calls"] = [call_json(c) for c in message.tool_calls]
    if message.truncated:
        out["truncated"] = True
    if answer is not None:
        if answer.reasoning is not None:
            out["reasoning"] = answer.reasoning
        if answer.provenance is not None:
            out["provenance"] = answer.provenance.to_json()
    return out


def log_record(
    *,
    thread: str | None,
    system: str | None,
    messages: Sequence[Message],
    answers: Mapping[int, Answer],
    usage: Mapping[str, int] | None,
    kept: bool,
    cut_off: str | None,
    answered: Sequence[Message] = (),
) -> dict[str, JSON]:
    """One line of ``ChatSettings.log_path``: a turn's new messages and how it went.

    ``answered``: the tool messages a turn that goes on after calls answered by
    hand (no prompt) starts from.
    """
    return {
        "format": LOG_FORMAT,
        "version": VERSION,
        "time": now(),
        "thread": thread,
        "kept": kept,
        "system": system,
        "messages": [message_json(m, answers.get(i)) for i, m in enumerate(messages)],
        "usage": dict(usage) if usage is not None else None,
        "cut_off": cut_off,
        **({"answered": [message_json(m) for m in answered]} if answered else {}),
    }


# -- reading ---------------------------------------------------------------------------
_MISSING = object()


def _get(
    data: Mapping[str, JSON], key: str, kind: Any, where: str, default: Any = _MISSING
) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING or (value is None and default is None):
        if default is _MISSING:
            raise TranscriptError(f"{where}: missing")
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        name = getattr(kind, "__name__", str(kind)).replace("Mapping", "object")
        raise TranscriptError(f"{where}: expected {name}, got {type(value).__name__}")
    return value


def read_call(data: JSON, position: int, where: str) -> ToolCall:
    if not isinstance(data, Mapping):
        raise TranscriptError(f"{where}: expected an object")
    function = _get(data, "function", Mapping, f"{where}.function")
    return ToolCall(
        _get(data, "id", str, f"{where}.id", None),
        _get(function, "name", str, f"{where}.function.name", None),
        _get(function, "arguments", str, f"{where}.function.arguments", ""),
        _get(data, "index", int, f"{where}.index", position),
        _get(data, "type", str, f"{where}.type", "function"),
    )


def _read_part(data: JSON, where: str) -> ContentPart:
    if not isinstance(data, Mapping):
        raise TranscriptError(f"{where}: expected an object")
    kind = data.get("type")
    if kind == "text":
        return TextPart(_get(data, "text", str, f"{where}.text"))
    if kind == "image_url":
        image = _get(data, "image_url", Mapping, f"{where}.image_url")
        url = _get(image, "url", str, f"{where}.image_url.url")
        return ImagePart(url, _get(image, "detail", str, f"{where}.image_url.detail", None))
    raise TranscriptError(f"{where}.type: expected 'text' or 'image_url', got {kind!r:.40}")


def read_message(data: JSON, where: str) -> tuple[Message, Answer | None]:
    """A message and its answer (None when it has neither reasoning nor provenance)."""
    if not isinstance(data, Mapping):
        raise TranscriptError(f"{where}: expected an object")
    role = data.get("role")
    if role not in _ROLES:
        raise TranscriptError(
            f"{where}.role: expected one of {', '.join(_ROLES)}, got {role!r:.40}"
        )
    content = data.get("content")
    if isinstance(content, list):
        content = tuple(_read_part(p, f"{where}.content[{i}]") for i, p in enumerate(content))
    elif content is not None and not isinstance(content, str):
        raise TranscriptError(f"{where}.content: expected text, a list of parts or null")
    calls = _get(data, "tool_calls", list, f"{where}.tool_calls", [])
    message = Message(
        role,
        content,
        tool_calls=tuple(read_call(c, i, f"{where}.tool_calls[{i}]") for i, c in enumerate(calls)),
        tool_call_id=_get(data, "tool_call_id", str, f"{where}.tool_call_id", None),
        name=_get(data, "name", str, f"{where}.name", None),
        truncated=_get(data, "truncated", bool, f"{where}.truncated", False),
    )
    reasoning = _get(data, "reasoning", str, f"{where}.reasoning", None)
    prov = _get(data, "provenance", Mapping, f"{where}.provenance", None)
    if reasoning is None and prov is None:
        return message, None
    return message, Answer(reasoning, _read_provenance(prov, f"{where}.provenance"))


def _read_provenance(data: Mapping[str, JSON] | None, where: str) -> Provenance | None:
    if data is None:
        return None
    usage = _get(data, "usage", Mapping, f"{where}.usage", None)
    cost = _get(data, "cost", (int, float), f"{where}.cost", None)
    return Provenance(
        model=_get(data, "model", str, f"{where}.model", None),
        options=_get(data, "options", Mapping, f"{where}.options", {}),
        request_hash=_get(data, "request_hash", str, f"{where}.request_hash", ""),
        served_model=_get(data, "served_model", str, f"{where}.served_model", None),
        usage=dict(usage) if usage is not None else None,
        finish_reason=_get(data, "finish_reason", str, f"{where}.finish_reason", None),
        system_fingerprint=_get(
            data, "system_fingerprint", str, f"{where}.system_fingerprint", None
        ),
        response_id=_get(data, "response_id", str, f"{where}.response_id", None),
        cassette=_get(data, "cassette", str, f"{where}.cassette", None),
        cost=float(cost) if cost is not None else None,
    )
