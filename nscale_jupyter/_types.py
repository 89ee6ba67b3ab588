"""The request side of the chat completions API: messages and the request. Pure, frozen.

A request serialises to exactly the JSON body of the wire format (unset
fields are never sent). The response side lives in :mod:`._results`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ._options import OPTIONS

__all__ = ["ChatRequest", "ImagePart", "Message", "TextPart", "ToolCall"]

JSON = Any
Role = Literal["system", "user", "assistant", "tool", "developer"]


@dataclass(frozen=True, slots=True)
class TextPart:
    """A text part of a multi-part user message."""

    text: str

    def to_json(self) -> dict[str, JSON]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image part: an https URL or a ``data:`` URI."""

    url: str
    detail: str | None = None

    def to_json(self) -> dict[str, JSON]:
        image: dict[str, JSON] = {"url": self.url}
        if self.detail is not None:
            image["detail"] = self.detail
        return {"type": "image_url", "image_url": image}


ContentPart = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the model made; ``arguments`` is the raw JSON text."""

    id: str | None
    name: str | None
    arguments: str = ""
    index: int = 0
    type: str = "function"

    @property
    def args(self) -> dict[str, JSON] | None:
        """The arguments parsed; ``{}`` for none, ``None`` when they are not a JSON object."""
        if not self.arguments.strip():
            return {}
        try:
            value = json.loads(self.arguments)
        except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
            return None
        return value if isinstance(value, dict) else None

    @property
    def arguments_valid(self) -> bool:
        return self.args is not None

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message of any role.

    ``content`` is text, a tuple of parts (user messages with images) or
    ``None`` (an assistant message that only calls tools).
    """

    role: Role
    content: str | tuple[ContentPart, ...] | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    #: Set on a reply kept in history after it was cut off (interrupt, error).
    truncated: bool = False

    @classmethod
    def system(cls, text: str) -> Message:
        return cls("system", text)

    @classmethod
    def user(cls, content: str | Sequence[ContentPart]) -> Message:
        return cls("user", content if isinstance(content, str) else tuple(content))

    @classmethod
    def prompt(cls, text: str, images: Sequence[ImagePart] = ()) -> Message:
        """A user turn of text then images, as every face sends it (blank text: images only)."""
        if not images:
            return cls.user(text)
        return cls.user(((TextPart(text),) if text.strip() else ()) + tuple(images))

    @classmethod
    def assistant(cls, text: str | None, tool_calls: Iterable[ToolCall] = ()) -> Message:
        return cls("assistant", text, tool_calls=tuple(tool_calls))

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> Message:
        return cls("tool", content, tool_call_id=tool_call_id)

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Message:
        """Accept an OpenAI-style message dict."""
        content = data.get("content")
        if isinstance(content, list):
            parts: list[ContentPart] = []
            for part in content:
                if part.get("type") == "image_url":
                    image = part.get("image_url") or {}
                    parts.append(ImagePart(image.get("url", ""), image.get("detail")))
                else:
                    parts.append(TextPart(part.get("text", "")))
            content = tuple(parts)
        calls = tuple(
            ToolCall(
                c.get("id"),
                (c.get("function") or {}).get("name"),
                (c.get("function") or {}).get("arguments") or "",
                i,
            )
            for i, c in enumerate(data.get("tool_calls") or ())
        )
        return cls(
            data["role"],
            content,
            tool_calls=calls,
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
        )

    @property
    def text(self) -> str:
        """The text of the message (parts joined); ``""`` for none."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """The image parts of the message, in order; none for text-only content."""
        if not isinstance(self.content, tuple):
            return ()
        return tuple(p for p in self.content if isinstance(p, ImagePart))

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"role": self.role}
        if isinstance(self.content, tuple):
            out["content"] = [p.to_json() for p in self.content]
        else:
            out["content"] = self.content
        if self.tool_calls:
            out["tool_calls"] = [c.to_json() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Every request field of ``POST /chat/completions``; ``None`` means unset (not sent).

    ``extra`` carries vLLM extras (``top_k``, ``min_p``, ``repetition_penalty``,
    ``chat_template_kwargs``...), sent as top-level fields.
    """

    model: str | None = None
    messages: tuple[Message, ...] = ()
    stream: bool = False
    include_usage: bool | None = None
    continuous_usage_stats: bool | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: Mapping[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: Mapping[str, JSON] | None = None
    stop: str | tuple[str, ...] | None = None
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: str | Mapping[str, JSON] | None = None
    tools: tuple[Mapping[str, JSON], ...] | None = None
    seed: int | None = None
    user: str | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: str | None = None
    extra: Mapping[str, JSON] = field(default_factory=dict)

    def replace(self, **changes: Any) -> ChatRequest:
        return replace(self, **changes)

    def to_json(self) -> dict[str, JSON]:
        """The exact JSON body: unset fields omitted, wire-format rules applied.

        The fields are those of the option table, in its order; only the
        rules that span fields are written out here.
        """
        body: dict[str, JSON] = {}
        if self.model is not None:
            body["model"] = self.model
        body["messages"] = [m.to_json() for m in self.messages]
        if self.stream:
            body["stream"] = True
            if self.include_usage is not None or self.continuous_usage_stats is not None:
                options: dict[str, bool] = {"include_usage": bool(self.include_usage)}
                if self.continuous_usage_stats is not None:
                    options["continuous_usage_stats"] = self.continuous_usage_stats
                body["stream_options"] = options
        for name in _BODY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                body[name] = _wire(value)
        if self.top_logprobs is not None and self.top_logprobs > 0 and not self.logprobs:
            body["logprobs"] = True
        if not self.tools:  # never send `tools: []`
            body.pop("tools", None)
        if self.tool_choice is not None and not (self.tools or self.tool_choice == "none"):
            del body["tool_choice"]  # a tool choice without tools is refused
        for key, value in self.extra.items():
            body.setdefault(key, value)
        return body


def _wire(value: Any) -> JSON:
    """A request field's JSON value: tuples become lists, mappings dicts."""
    if isinstance(value, tuple):
        return [_wire(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    return value


#: The body's option fields, from the option table (vLLM extras go in ``extra``).
_BODY_FIELDS = tuple(o.name for o in OPTIONS if not o.extra and o.name != "model")
