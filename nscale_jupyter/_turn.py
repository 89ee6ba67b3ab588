"""The turn engine: one chat turn, from the user's words to the thread's history.

Every face (``%%chat``, ``%chat PROMPT``, the panel, ``chat()``/``achat()``,
compare) runs its turns here and only renders what a turn emits, in order
(the events and the outcome: ``_turn_events``).

A turn owns the messages (system prompt, the thread's history, the new
user turn), the request (inline options > settings > the table's defaults),
streaming or not, the tool loop (rounds, pending calls, answers by hand in
the thread the call came from), cut-off marking and recording. No IPython,
no display.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._archive import log_turn
from ._bridge import Emit, Pump
from ._events import StreamDone
from ._exceptions import NscaleError, StreamError
from ._results import ChatResult
from ._session import refuses_stream
from ._turn_events import (
    RoundStarted,
    ToolFinished,
    ToolsPending,
    ToolStarted,
    TurnEnded,
    TurnEvent,
    TurnNotice,
    TurnOutcome,
)
from ._types import ChatRequest, Message, ToolCall

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from ._chat_stream import ChatStream
    from ._session import Session
    from ._thread import Thread
    from ._tools import ToolOutcome

__all__ = ["Turn", "TurnSpec"]

#: Why a turn asking for prompt logprobs waits for the whole reply.
NOT_STREAMED = "prompt logprobs: asked without streaming (vLLM refuses them on a stream)"
#: What a call that nobody answered tells the model when the conversation moves on.
UNANSWERED = "Error: no answer was given for this call; the user moved on."


@dataclass(frozen=True)
class TurnSpec:
    """What a face asks for: the new user turn and how to send it."""

    #: The new user turn; empty to continue the thread (after answering tool calls).
    prompt: tuple[Message, ...] = ()
    #: The thread it belongs to; None for a one-off (no history, nothing recorded).
    thread: str | None = None
    #: Inline options (API names, validated values): they win over the settings.
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Tools to offer: names, OpenAI-style dicts, functions, or a mix; None: the settings'.
    tools: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    stream: bool | None = None
    include_usage: bool | None = None
    #: Record into the thread (the panel's live runs do not, until "keep").
    record: bool = True
    #: The thread's last prompt again: send the history before that turn.
    rerun: bool = False
    max_tool_rounds: int | None = None
    run_tools: bool | None = None


_FORCED = ("required",)


class Turn:
    """One turn, run on the session loop. Iterate it (sync or async) for its events,
    or ``await turn.run()`` / ``turn.wait()``; ``turn.outcome`` is set at the end."""

    def __init__(
        self,
        session: Session,
        spec: TurnSpec,
        tools: tuple[dict[str, Any], ...] = (),
        *,
        request: ChatRequest | None = None,
    ) -> None:
        self.session = session
        self.spec = spec
        self.tools = tools
        self._request = request  # sent as it is (compare), instead of one built from spec
        self.outcome: TurnOutcome | None = None
        self._stream: ChatStream | None = None
        self._done: ChatResult | None = None  # the last answer counted
        self._pump = Pump(session.loop, self._drive)

    # -- for the faces --------------------------------------------------------------
    @property
    def on_idle(self) -> Any:
        return self._pump.on_idle

    @on_idle.setter
    def on_idle(self, callback: Any) -> None:
        self._pump.on_idle = callback

    def __iter__(self) -> Iterator[TurnEvent]:
        return iter(self._pump)

    def __aiter__(self) -> AsyncIterator[TurnEvent]:
        return self._pump.__aiter__()

    def cancel(self) -> Iterator[TurnEvent]:
        """Stop the turn (closing its connection) and wait for it to end.

        Yields the events that were emitted but not yet delivered, down to
        ``TurnEnded``: the outcome keeps what arrived, marked as cut off.
        """
        self._pump.cancel()
        return self._pump.rest()

    async def run(self) -> TurnOutcome:
        """The whole turn on the session loop, one hop back (``achat``)."""
        await self._pump.run()
        assert self.outcome is not None
        return self.outcome

    def wait(self) -> TurnOutcome:
        """The whole turn, blocking this thread (``chat()``)."""
        self._pump.wait()
        assert self.outcome is not None
        return self.outcome

    # -- the turn, on the session loop ---------------------------------------------------
    async def first_request(self) -> ChatRequest:
        """The request the turn would send first (compare sends it once per value)."""
        thread = self.session.thread(self.spec.thread) if self.spec.thread is not None else None
        head = (*self.session.system_messages(thread), *self._history(thread, lambda _: None))
        return await self._first(thread, head)

    async def _first(self, thread: Thread | None, head: tuple[Message, ...]) -> ChatRequest:
        await self.session.aload_models()
        if self._request is not None:
            return self._request
        if thread is not None and thread.resume is not None and not self.spec.prompt:
            return _unforced(thread.resume).replace(messages=head)  # answered by hand: go on
        return self.session.build_request([*head, *self.spec.prompt], self.spec, self.tools)

    async def drive(self, emit: Emit) -> None:
        """Run the turn on the running loop (the session's), emitting its events."""
        await self._drive(emit)

    async def _drive(self, emit: Emit) -> None:
        spec, session = self.spec, self.session
        rounds: list[ChatResult] = []
        added: list[Message] = list(spec.prompt)
        outcomes: list[ToolOutcome] = []
        pending: tuple[ToolCall, ...] = ()
        cut_off: str | None = None
        error: NscaleError | None = None
        partial: ChatResult | None = None
        limit = cancelled = False
        thread = session.thread(spec.thread) if spec.thread is not None else None
        base = self._history(thread, emit)
        head = (*session.system_messages(thread), *base)
        try:
            request = await self._first(thread, head)
            for warning in self.session.warnings(request):
                emit(TurnNotice(warning))
            if self._wanted_stream() and not request.stream and refuses_stream(request.extra):
                emit(TurnNotice(NOT_STREAMED))
            if thread is not None and spec.record and spec.prompt:
                session.last_request = request
            max_rounds = self._max_rounds()
            while True:
                emit(RoundStarted(len(rounds), request))
                result = await self._round(request, emit)
                rounds.append(result)
                added.append(result.choice.to_message(truncated=result.truncated))
                if not result.tool_calls:
                    break
                run, pending = self._split(result.tool_calls, request)
                done = await self._run_calls(run, emit)
                outcomes.extend(done)
                added.extend(o.to_message() for o in done)
                if pending:
                    emit(ToolsPending(pending, spec.thread))
                    break
                if len(rounds) >= max_rounds:
                    limit = True
                    emit(TurnNotice(f"stopped after {max_rounds} rounds of tool calls"))
                    break
                request = _unforced(request).replace(messages=(*head, *added))
        except asyncio.CancelledError:
            cancelled, cut_off = True, "interrupted"
            partial = self._stream.partial() if self._stream is not None else None
        except StreamError as exc:
            cut_off, error, partial = exc.message, exc, exc.partial
        except NscaleError as exc:
            cut_off, error = str(exc), exc
        if partial is not None and partial is not self._done:  # sent and cut: counted too
            partial = session.account(spec.thread, partial)
        if partial is not None and (partial.text or partial.reasoning):
            # What arrived before the cut stays, marked; its calls never ran.
            added.append(Message("assistant", partial.text or None, truncated=True))
        if cut_off is not None:
            added.extend(_close_calls(added, pending))
        outcome = TurnOutcome(
            thread=spec.thread,
            result=partial if cut_off is not None else rounds[-1],
            rounds=tuple(rounds),
            added=tuple(added) if len(added) > len(spec.prompt) else (),
            outcomes=tuple(outcomes),
            pending=pending,
            cut_off=cut_off,
            error=error,
            limit_reached=limit,
            base=base,
        )
        if thread is not None and spec.record and (outcome.added or not spec.prompt):
            session.record(thread, outcome)
            outcome = replace(outcome, recorded=True)
        if spec.record and (problem := log_turn(session, outcome, spec.prompt)):
            emit(TurnNotice(problem))  # the turn stands; its log line could not be written
        self.outcome = outcome
        emit(TurnEnded(outcome))
        if cancelled:
            raise asyncio.CancelledError

    def _history(self, thread: Thread | None, emit: Emit) -> tuple[Message, ...]:
        """The thread's messages to send before the new user turn."""
        if thread is None:
            return ()
        if thread.pending and self.spec.prompt:
            # A new user turn after calls nobody answered: tell the model, stay valid.
            emit(TurnNotice(f"{len(thread.pending)} unanswered tool call(s) were closed"))
            if self.spec.record:
                thread.record([Message.tool(c.id or "", UNANSWERED) for c in thread.pending])
                thread.pending, thread.resume = (), None
        history = tuple(thread.messages)
        if self.spec.rerun and self.spec.prompt:
            users = [i for i, m in enumerate(history) if m.role == "user"]
            if users and history[users[-1]] == self.spec.prompt[-1]:
                history = history[: users[-1]]
        return history

    def _wanted_stream(self) -> bool:
        spec = self.spec
        return self.session.settings.stream if spec.stream is None else spec.stream

    def _max_rounds(self) -> int:
        spec, settings = self.spec, self.session.settings
        return max(1, spec.max_tool_rounds or settings.max_tool_rounds)

    def _split(
        self, calls: tuple[ToolCall, ...], request: ChatRequest
    ) -> tuple[list[ToolCall], tuple[ToolCall, ...]]:
        """(calls to run now, calls left for a person)."""
        registry = self.session.tool_registry()
        run_tools = self.spec.run_tools
        if run_tools is None:
            run_tools = self.session.settings.run_tools
        if not run_tools:
            return [], calls
        # Offered without a Python function: a person answers. Unknown names run,
        # and come back to the model as an error naming the tools it has.
        offered = {t["function"]["name"] for t in request.tools or ()}
        by_hand = tuple(
            c for c in calls if c.name in offered and registry.get(c.name or "") is None
        )
        return [c for c in calls if c not in by_hand], by_hand

    async def _run_calls(self, calls: list[ToolCall], emit: Emit) -> list[ToolOutcome]:
        from ._tools import INTERRUPTED, ToolOutcome, run_calls

        if not calls:
            return []
        for call in calls:
            emit(ToolStarted(call))
        try:
            return await run_calls(
                calls, self.session.tool_registry(), lambda o: emit(ToolFinished(o))
            )
        except asyncio.CancelledError:
            for call in calls:
                emit(ToolFinished(ToolOutcome(call, False, INTERRUPTED)))
            raise

    async def _round(self, request: ChatRequest, emit: Emit) -> ChatResult:
        session = self.session
        client = await session.aclient()
        session.check_budget(request)  # BudgetError: refused before it is sent
        result: ChatResult | None = None
        async with client.events(request, on_retry=emit) as stream:
            self._stream = stream  # what partial() reads if the turn is cut here
            async for event in stream:
                if isinstance(event, StreamDone):  # every face's answers, counted once
                    self._done = event.result
                    result = session.account(self.spec.thread, event.result)
                    event = StreamDone(result)
                emit(event)
        self._stream = None
        assert result is not None
        return result


def _unforced(request: ChatRequest) -> ChatRequest:
    """A forced tool choice holds for one round only, or the model could never answer."""
    choice = request.tool_choice
    if choice in _FORCED or isinstance(choice, Mapping):
        return request.replace(tool_choice="auto")
    return request


def _close_calls(added: list[Message], pending: tuple[ToolCall, ...]) -> list[Message]:
    """Tool messages for calls a cut-off turn left open (a person's are kept open)."""
    answered = {m.tool_call_id for m in added if m.role == "tool"}
    waiting = {c.id for c in pending}
    return [
        Message.tool(c.id or "", "Error: the turn was cut off before this call finished.")
        for m in added
        for c in m.tool_calls
        if c.id not in answered and c.id not in waiting
    ]
