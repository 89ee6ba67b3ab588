"""A pure stream accumulator: parsed chunks in, typed events and a result out.

Non-streaming responses are fed through the same code (as one chunk per
choice), so both paths give identical results.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._events import (
    ChoiceFinished,
    ContentDelta,
    LogprobsDelta,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageUpdate,
)
from ._prompt_logprobs import PromptLogprobs
from ._redact import KeyRedactor, TextGuard
from ._results import ChatResult, Choice, LazySequence, Timing, TokenLogprobs, Usage
from ._types import ChatRequest, ToolCall

__all__ = ["RawChunks", "StreamAccumulator"]


class RawChunks(LazySequence[Any]):
    """A stream's chunks as JSON: kept as the bytes received, parsed on access.

    Holding bytes rather than parsed objects keeps a long stream's memory
    flat for the garbage collector.
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: list[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def _build(self) -> Iterable[Any]:
        return map(json.loads, self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"RawChunks({len(self._raw)} chunks)"


class _ToolState:
    __slots__ = ("arguments", "guard", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.type = "function"
        self.arguments: list[str] = []
        self.guard: TextGuard | None = None

    def text(self) -> str:
        return "".join(self.arguments) + (self.guard.pending() if self.guard else "")


class _ChoiceState:
    __slots__ = (
        "content",
        "content_guard",
        "finish_reason",
        "logprob_chunks",
        "logprob_count",
        "logprobs",
        "reasoning",
        "reasoning_guard",
        "role",
        "stop_reason",
        "tools",
    )

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.tools: dict[int, _ToolState] = {}
        self.logprobs: list[Mapping[str, Any]] | None = None  # JSON entries (not streamed)
        self.logprob_chunks: list[bytes] = []  # streamed: the chunks that carried them
        self.logprob_count = 0
        self.finish_reason: str | None = None
        self.stop_reason: str | int | None = None
        self.role = "assistant"
        self.content_guard: TextGuard | None = None  # set when a key is to be scrubbed
        self.reasoning_guard: TextGuard | None = None

    def snapshot(self, index: int) -> Choice:
        content = "".join(self.content)
        reasoning = "".join(self.reasoning)
        if self.content_guard is not None:
            content += self.content_guard.pending()
        if self.reasoning_guard is not None:
            reasoning += self.reasoning_guard.pending()
        return Choice(
            index=index,
            content=content or None,
            reasoning=reasoning or None,
            tool_calls=tuple(
                ToolCall(t.id, t.name, t.text(), i, t.type) for i, t in sorted(self.tools.items())
            ),
            logprobs=None
            if self.logprobs is None
            else TokenLogprobs.from_chunks(self.logprob_chunks, index, self.logprob_count)
            if self.logprob_chunks
            else TokenLogprobs(self.logprobs),
            finish_reason=self.finish_reason,
            stop_reason=self.stop_reason,
            role=self.role,
        )


class StreamAccumulator:
    """Merge ``chat.completion.chunk`` objects, one at a time.

    - content and reasoning deltas are appended per choice (``reasoning``
      preferred over ``reasoning_content``, never both);
    - tool-call pieces are merged by their ``index`` (id and name from the
      first piece that has them, argument fragments concatenated);
    - ``n > 1`` choices may interleave, or share a chunk;
    - the usage-only final chunk (``choices: []``) sets usage; the last wins.

    With a ``redactor``, content, reasoning and tool-call arguments pass
    through a :class:`TextGuard` each: neither the events nor the result
    carry the key, even split across chunks.
    """

    __slots__ = (
        "_choices",
        "_prompt_logprobs",
        "_raw",
        "_redactor",
        "created",
        "id",
        "model",
        "system_fingerprint",
        "usage",
    )

    def __init__(self, redactor: KeyRedactor | None = None) -> None:
        self._redactor = redactor
        self._choices: dict[int, _ChoiceState] = {}
        self.usage: Usage | None = None
        self.id: str | None = None
        self.created: int | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self._raw: list[bytes] = []  # each chunk's JSON as received
        self._prompt_logprobs: PromptLogprobs | None = None  # full responses only

    def feed(self, chunk: Mapping[str, Any], raw: bytes | None = None) -> list[StreamEvent]:
        """Take one parsed chunk (and its JSON text, kept as ``result.raw``); return its events."""
        self._raw.append(raw if raw is not None else json.dumps(chunk).encode())
        if self.id is None:
            self.id = chunk.get("id")
            self.created = chunk.get("created")
        if self.model is None:
            self.model = chunk.get("model")
        fingerprint = chunk.get("system_fingerprint")
        if fingerprint is not None:
            self.system_fingerprint = fingerprint
        events: list[StreamEvent] = []
        for c in chunk.get("choices") or ():
            self._feed_choice(c, events, raw)
        usage = chunk.get("usage")
        if usage:
            self.usage = Usage.from_json(usage)
            events.append(UsageUpdate(self.usage))
        return events

    def _feed_choice(
        self, c: Mapping[str, Any], events: list[StreamEvent], raw: bytes | None
    ) -> None:
        index = c.get("index") or 0
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _ChoiceState()
            if self._redactor is not None:
                state.content_guard = self._redactor.guard()
                state.reasoning_guard = self._redactor.guard()
        delta = c.get("delta") or {}
        if delta:
            role = delta.get("role")
            if role:
                state.role = role
            reasoning = delta.get("reasoning")
            if reasoning is None:
                reasoning = delta.get("reasoning_content")
            if reasoning and state.reasoning_guard is not None:
                reasoning = state.reasoning_guard.feed(reasoning)
            if reasoning:
                state.reasoning.append(reasoning)
                events.append(ReasoningDelta(index, reasoning))
            content = delta.get("content")
            if content and state.content_guard is not None:
                content = state.content_guard.feed(content)
            if content:
                state.content.append(content)
                events.append(ContentDelta(index, content))
            calls = delta.get("tool_calls")
            if calls:
                for call in calls:
                    self._feed_tool(index, state, call, events, self._redactor)
        logprobs = c.get("logprobs")
        if logprobs is not None:
            if state.logprobs is None:
                state.logprobs = []
            entries = logprobs.get("content") if type(logprobs) is dict else None
            if entries:
                if raw is None:
                    state.logprobs.extend(entries)
                    tokens = TokenLogprobs(entries)
                else:
                    state.logprob_chunks.append(raw)
                    state.logprob_count += len(entries)
                    # The event holds the chunk's bytes, not its parsed tree: events
                    # waiting to be handed over add no small objects for the GC.
                    tokens = TokenLogprobs.from_chunks((raw,), index, len(entries))
                events.append(LogprobsDelta(index, tokens))
        finish = c.get("finish_reason")
        if finish is not None:
            state.finish_reason = finish
            state.stop_reason = c.get("stop_reason")
            events.append(ChoiceFinished(index, finish, state.stop_reason))

    @staticmethod
    def _feed_tool(
        index: int,
        state: _ChoiceState,
        call: Mapping[str, Any],
        events: list[StreamEvent],
        redactor: KeyRedactor | None,
    ) -> None:
        call_id = call.get("id")
        tool_index = call.get("index")
        if tool_index is None:  # servers that omit it: a new id starts a new call
            last = max(state.tools, default=-1)
            is_new = last < 0 or (call_id is not None and call_id != state.tools[last].id)
            tool_index = last + 1 if is_new else last
        tool = state.tools.get(tool_index)
        if tool is None:
            tool = state.tools[tool_index] = _ToolState()
            if redactor is not None:
                tool.guard = redactor.guard()
        if call_id and not tool.id:
            tool.id = call_id
        if call.get("type"):
            tool.type = call["type"]
        function = call.get("function") or {}
        name = function.get("name")
        if name and not tool.name:
            tool.name = name
        arguments = function.get("arguments") or ""
        if arguments and tool.guard is not None:
            arguments = tool.guard.feed(arguments)
        if arguments:
            tool.arguments.append(arguments)
        events.append(ToolCallDelta(index, tool_index, call_id, name, arguments))

    def feed_response(self, response: Mapping[str, Any]) -> list[StreamEvent]:
        """Take a whole non-streaming ``chat.completion`` response."""
        choices = []
        for c in response.get("choices") or ():
            message = dict(c.get("message") or {})
            message["tool_calls"] = [
                {**call, "index": call.get("index", i)}
                for i, call in enumerate(message.get("tool_calls") or ())
            ]
            choices.append({**c, "delta": message})
        chunk = {**response, "choices": choices}
        self._prompt_logprobs = PromptLogprobs.from_json(
            response.get("prompt_logprobs"), response.get("prompt_token_ids")
        )
        events = self.feed(chunk)
        self._raw.clear()
        return events

    def result(
        self,
        *,
        truncated: bool = False,
        error: str | None = None,
        request: ChatRequest | None = None,
        timing: Timing | None = None,
        raw: Any = None,
        prompt_logprobs: Any = None,
    ) -> ChatResult:
        """The result so far (call it at the end, or for a partial reply).

        ``prompt_logprobs`` (the response's JSON list) is only needed when the
        response was not given to :meth:`feed_response`, which keeps its own.
        """
        return ChatResult(
            choices=tuple(s.snapshot(i) for i, s in sorted(self._choices.items())),
            usage=self.usage,
            id=self.id,
            created=self.created,
            model=self.model,
            system_fingerprint=self.system_fingerprint,
            prompt_logprobs=(
                self._prompt_logprobs
                if self._prompt_logprobs is not None
                else PromptLogprobs.from_json(prompt_logprobs)
            ),
            truncated=truncated,
            error=error,
            timing=timing or Timing(),
            request=request,
            raw=raw if raw is not None else RawChunks(list(self._raw)),
        )
