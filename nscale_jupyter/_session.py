"""Threads, settings and running requests: the layer under the magics and the panel.

No IPython and no display code here. One ``Session`` per kernel owns one
``ChatSettings``, the conversation threads, and one ``AsyncClient`` living
on a private event loop (``LoopThread``), so the same client serves cells,
widget callbacks and scripts, whichever thread or loop they run on.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._catalog import ModelCatalog
from ._config import DEFAULT_BASE_URL, Secret, resolve_api_key, resolve_base_url
from ._options import EXTRAS, OptionError, check_combination, option
from ._redact import MASK, MIN_KEY
from ._results import ChatResult
from ._settings import ChatSettings
from ._thread import Thread
from ._types import ChatRequest, Message

if TYPE_CHECKING:  # httpx loads with the first request, not with %load_ext
    import httpx

    from ._cassette import Cassette
    from ._client import AsyncClient
    from ._compare import Comparison
    from ._sync import LoopThread
    from ._tools import ToolRegistry
    from ._turn import Turn, TurnSpec
    from ._turn_events import TurnOutcome

__all__ = ["Session", "refuses_stream"]

#: Seconds to wait for ``GET /models`` before a turn goes on without it.
MODELS_TIMEOUT = 5.0
_MAX_TOKENS = option("max_tokens").default


def refuses_stream(extra: Mapping[str, Any]) -> bool:
    """vLLM answers 400 to ``prompt_logprobs`` on a stream: such a request goes whole."""
    return extra.get("prompt_logprobs") is not None


class Session:
    """Settings, threads and the client of one kernel (or script)."""

    def __init__(
        self,
        settings: ChatSettings | None = None,
        *,
        api_key: str | Secret | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings if settings is not None else ChatSettings()
        self.threads: dict[str, Thread] = {}
        self.current = "default"
        self._key = resolve_api_key(api_key)
        self._transport = transport
        self._loop: LoopThread | None = None
        self._client: AsyncClient | None = None
        self._client_config: tuple[object, ...] | None = None
        self.catalog = ModelCatalog()  # what each server serves
        self.tools: ToolRegistry | None = None  # None: the registry @tool adds to
        #: The first request of the last recorded turn (what ``%chat compare`` reruns).
        self.last_request: ChatRequest | None = None
        from ._usage import UsageMeter

        #: Requests and tokens per thread, live and replayed (``%chat usage``).
        self.meter = UsageMeter()
        self._cassettes: dict[tuple[str, str], Cassette] = {}

    def __repr__(self) -> str:
        key = "set" if self._key is not None else "none"
        return f"<Session base_url={self.base_url!r} key={key} threads={list(self.threads)}>"

    # -- configuration ------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return resolve_base_url(self.settings.base_url)

    @property
    def has_key(self) -> bool:
        return self._key is not None

    @property
    def needs_key(self) -> bool:
        """True when talking to nscale without a key (the magic then asks once)."""
        return self._key is None and self.base_url == DEFAULT_BASE_URL

    def set_key(self, key: str | Secret | None) -> None:
        self._key = resolve_api_key(key) if key is not None else None

    @property
    def loop(self) -> LoopThread:
        if self._loop is None:
            from ._sync import LoopThread

            self._loop = LoopThread()
        return self._loop

    async def aclient(self) -> AsyncClient:
        """The client for the current base URL and key (made on the session loop)."""
        s = self.settings
        cassette = self.cassette
        config = (self.base_url, self._key, s.timeout, s.allow_insecure_http, cassette)
        if self._client is None or self._client_config != config:
            if self._client is not None:
                await self._client.aclose()
            import httpx

            from ._client import AsyncClient

            self._client_config = None
            self._client = AsyncClient(
                self._key,
                base_url=self.base_url,
                timeout=httpx.Timeout(s.timeout, connect=min(10.0, s.timeout)),
                allow_insecure_http=s.allow_insecure_http,
                transport=self._transport_for(cassette),
            )
            self._client_config = config
        return self._client

    # -- cassettes, usage, budget -----------------------------------------------------
    @property
    def cassette(self) -> Cassette | None:
        """The cassette ``ChatSettings.cassette`` names (its mode: ``cassette_mode``, or auto)."""
        from ._cassette import open_cassette

        s = self.settings
        cassette = open_cassette(self._cassettes, s.cassette, s.cassette_mode or "auto")
        if cassette is not None:
            cassette.pace = s.cassette_pace
        return cassette

    def _transport_for(self, cassette: Cassette | None) -> httpx.AsyncBaseTransport | None:
        from ._cassette_transport import CassetteTransport

        inner = self._transport
        return inner if cassette is None else CassetteTransport(cassette, inner)

    def would_replay(self, request: ChatRequest) -> bool:
        """True when the cassette answers ``request`` (nothing is sent, nothing spent)."""
        cassette = self.cassette
        secret = self._key.reveal() if self._key is not None else None
        return cassette is not None and cassette.would_replay(
            "chat/completions", request.to_json(), secret
        )

    def price(self, model: str | None) -> tuple[float, float] | None:
        """Per million (input, output) tokens: ``ChatSettings.prices``, else the server's list."""
        from ._usage import price_for

        return price_for(self.settings.prices, self.catalog.listed(self.base_url), model)

    def check_budget(self, request: ChatRequest) -> None:
        """BudgetError (nothing sent) when ``request`` could pass the session's budget."""
        from ._usage import check_budget

        s = self.settings
        if (s.budget_tokens is not None or s.budget_cost is not None) and not self.would_replay(
            request
        ):  # replayed answers cost nothing
            spent = self.meter.total("live")
            check_budget(request, spent, s.budget_tokens, s.budget_cost, self.price(request.model))

    def account(self, thread: str | None, result: ChatResult) -> ChatResult:
        """Count an answer in the meter; with a price, the result gets its cost."""
        from ._usage import account

        return account(self.meter, thread, result, self.price)

    def close(self) -> None:
        """Close the client and stop the loop (``%unload_ext``)."""
        if self._loop is not None:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._loop.run(self._client.aclose())
            self._loop.stop()
        self._loop = None
        self._client = None

    # -- threads ----------------------------------------------------------------------
    def thread(self, name: str | None = None) -> Thread:
        """The named thread (created on first use), or the current one."""
        name = name or self.current
        if name not in self.threads:
            self.threads[name] = Thread(name)
        return self.threads[name]

    def new_thread(self, name: str | None = None) -> Thread:
        """Start the current (or named) thread afresh; its own system prompt stays."""
        thread = self.thread(name)
        thread.clear()
        return thread

    def system_prompt(self, thread: Thread | None) -> str | None:
        """The system prompt a turn in ``thread`` sends (the thread's own, else the settings')."""
        own = thread.system if thread is not None else None
        text = own if own is not None else self.settings.system
        return text or None

    def system_messages(self, thread: Thread | None) -> tuple[Message, ...]:
        text = self.system_prompt(thread)
        return (Message.system(text),) if text else ()

    def history(self, thread: Thread) -> list[Message]:
        """What the next turn in ``thread`` sends before its prompt (system first)."""
        return [*self.system_messages(thread), *thread.messages]

    def record(self, thread: Thread, outcome: TurnOutcome) -> None:
        """Put a turn's messages into its thread, and its calls awaiting a person."""
        from ._archive import answers_of

        thread.record(outcome.added, answers_of(outcome))
        thread.pending = outcome.pending
        thread.resume = outcome.rounds[-1].request if outcome.pending else None

    def keep(self, outcome: TurnOutcome) -> None:
        """Record a turn that was run without recording (the panel's "keep").

        A rerun of the thread's last prompt replaces that turn; otherwise the
        turn is added at the end.
        """
        thread = self.thread(outcome.thread)
        n = len(outcome.base)
        if tuple(thread.messages[:n]) == outcome.base:
            del thread.messages[n:]
        self.record(thread, outcome)
        if outcome.rounds:
            self.last_request = outcome.rounds[0].request
        from ._archive import log_turn

        problem = log_turn(self, outcome, kept=True)
        if problem is not None:
            warnings.warn(problem, stacklevel=2)

    def scrub(self, text: str) -> str:
        """``text`` with the session's key masked (for what leaves the session as a file)."""
        key = self._key.reveal() if self._key is not None else ""
        return text.replace(key, MASK) if len(key) >= MIN_KEY and key in text else text

    def answer_tool(self, call_id: str, content: str) -> Thread:
        """A person's answer to a pending call, recorded in the thread the call came from.

        Returns that thread: once its ``pending`` is empty, a turn with no
        prompt in it lets the model go on. KeyError for an unknown id.
        """
        for thread in self.threads.values():
            if any(c.id == call_id for c in thread.pending):
                thread.record([Message.tool(call_id, content)])
                thread.pending = tuple(c for c in thread.pending if c.id != call_id)
                return thread
        waiting = [str(c.id) for t in self.threads.values() for c in t.pending]
        raise KeyError(
            f"no tool call {call_id!r} is waiting for an answer; "
            f"waiting: {', '.join(waiting) or 'none'}"
        )

    # -- turns ------------------------------------------------------------------------
    def tool_registry(self) -> ToolRegistry:
        from ._tools import default_registry

        return self.tools if self.tools is not None else default_registry()

    def turn(self, spec: TurnSpec) -> Turn:
        """A turn, checked now (bad options and tools raise before anything is sent).

        Iterate it for its events, or ``wait()`` / ``await run()`` for its outcome.
        """
        from ._tools import tool_schemas
        from ._turn import Turn

        self.base_url  # noqa: B018  (a base URL that is not one is refused now, not mid-turn)
        self.options_for(spec)
        for message in spec.prompt:
            _check_text(message.text)
        names = self.settings.tools
        wanted = spec.tools if spec.tools is not None else (list(names) if names else None)
        return Turn(self, spec, tool_schemas(wanted, self.tool_registry()))

    def options_for(self, spec: TurnSpec) -> dict[str, Any]:
        """The request options of a turn: inline > settings (%chat set, %config) > defaults."""
        values = self.settings.request_options()
        for name, value in spec.options.items():
            if value is not None:
                values[option(name).name] = value
        check_combination(values)
        if values.get("max_tokens") is None and values.get("max_completion_tokens") is None:
            values["max_tokens"] = _MAX_TOKENS  # always sent: else the whole context is allowed
        return values

    def build_request(
        self,
        messages: Sequence[Message],
        spec: TurnSpec,
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> ChatRequest:
        """A turn's first request. No I/O: models come from the list fetched ahead."""
        values = self.options_for(spec)
        values.pop("tools", None)  # names: the turn resolved them to ``tools``
        extra = {k: values.pop(k) for k in list(values) if k in EXTRAS}
        extra.update(spec.extra)
        if values.get("model") is None:
            values["model"] = self.default_model()
        limit = self.catalog.context_length(self.base_url, values["model"])
        for name in ("max_tokens", "max_completion_tokens"):
            if limit is not None and values.get(name) is not None and values[name] > limit:
                values[name] = limit  # the server refuses more than its context
        settings = self.settings
        stream = settings.stream if spec.stream is None else spec.stream
        budget = settings.budget_tokens is not None or settings.budget_cost is not None
        return ChatRequest(
            messages=tuple(messages),
            stream=stream and not refuses_stream(extra),
            include_usage=budget  # with a budget every answer is counted
            or (settings.include_usage if spec.include_usage is None else spec.include_usage),
            extra=extra,
            tools=tuple(tools) or None,
            **values,
        )

    def warnings(self, request: ChatRequest) -> list[str]:
        """What the user should know before a request goes out (it is sent anyway)."""
        choice = request.tool_choice
        if self.base_url == DEFAULT_BASE_URL and (
            choice == "required" or isinstance(choice, Mapping)
        ):
            return [
                'nscale\'s API documents tool_choice "auto" and "none" only; '
                f"{choice!r:.60} may be refused (a local vLLM accepts it)"
            ]
        return []

    def compare(
        self,
        base: ChatRequest | TurnSpec,
        name: str,
        values: Sequence[Any],
        *,
        concurrency: int = 4,
    ) -> list[Comparison]:
        """One turn per value of a field, at most ``concurrency`` at a time, in value order."""
        from ._compare import run_compare

        return self.loop.run(run_compare(self, base, name, values, concurrency=concurrency))

    async def acompare(
        self,
        base: ChatRequest | TurnSpec,
        name: str,
        values: Sequence[Any],
        *,
        concurrency: int = 4,
    ) -> list[Comparison]:
        """:meth:`compare`, awaitable from any loop (the kernel's, for the panel)."""
        from ._compare import run_compare

        coro = run_compare(self, base, name, values, concurrency=concurrency)
        return await asyncio.wrap_future(self.loop.submit(coro))

    # -- models (the catalog: GET /models once per base URL) -----------------------------
    def default_model(self) -> str:
        """The server's only model, from the list fetched ahead; otherwise ask the user."""
        return self.catalog.default_model(self.base_url)

    def models(self) -> list[str]:
        """Model ids from ``GET /models`` (fetched again; ``%chat models``, the panel)."""
        return [m.id for m in self.loop.run(self.catalog.fetch(self.aclient, self.base_url))]

    async def aload_models(self) -> None:
        """Fetch the model list once per base URL, on the session loop, with a short timeout."""
        timeout = min(MODELS_TIMEOUT, self.settings.timeout)
        await self.catalog.load(self.aclient, self.base_url, timeout)


def _check_text(text: str) -> None:
    """Text that cannot travel as UTF-8 (a lone surrogate) is refused before sending."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise OptionError(
            f"the prompt holds a character that is not text ({text[exc.start]!r} at "
            f"position {exc.start}); remove it"
        ) from None
