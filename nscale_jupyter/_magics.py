"""The ``%%chat`` cell magic and ``%chat`` line magic.

Flags are generated from the option table, so every request field is an
inline option (``%%chat?`` shows them). Bad options raise ``UsageError``:
one line naming the option, never a traceback. ``%chat SUBCOMMAND`` runs
one of :data:`SUBCOMMANDS`, which other modules extend.
"""

from __future__ import annotations

import getpass
import json
import shlex
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from . import _api
from ._events import StreamDone
from ._exceptions import NscaleError, StreamError
from ._interpolate import InterpolationError, interpolate
from ._options import KNOWN_EXTRAS, OPTIONS, OptionError, check_combination, parse_option
from ._session import Session, Thread
from ._types import ChatRequest, ChatResult, Message, ToolCall

__all__ = ["SUBCOMMANDS", "ChatMagics", "load_ipython_extension", "unload_ipython_extension"]

Handler = Callable[["ChatMagics", str], Any]
#: ``%chat NAME ARGS`` -> handler(magics, args). Other modules add entries.
SUBCOMMANDS: dict[str, Handler] = {}


def subcommand(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        SUBCOMMANDS[name] = fn
        return fn

    return register


def _chat_arguments(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``fn`` with one ``@argument`` per option of the table, and the rest."""
    extra_args: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("--system",), {"help": "System prompt for this thread."}),
        (("--thread",), {"help": "Named thread to continue (default: the current one)."}),
        (("--new",), {"action": "store_true", "help": "Start the thread afresh."}),
        (("--out",), {"help": "Also store the result in this variable."}),
        (("--quiet", "-q"), {"action": "store_true", "help": "Show nothing; keep the result."}),
        (("--no-stream",), {"action": "store_true", "help": "Wait for the whole reply."}),
        (("--no-usage",), {"action": "store_true", "help": "Do not ask for usage."}),
        (("--no-interpolate",), {"action": "store_true", "help": "Send {braces} as written."}),
        (("--extra",), {"action": "append", "metavar": "KEY=VALUE",
                        "help": "A vLLM extra field (JSON value), e.g. top_k=5. Repeatable."}),
        (("--plot",), {"choices": ["tokens", "topk", "entropy", "temperature"],
                       "help": "Plot the logprobs under the reply (needs --logprobs)."}),
        (("--max-tool-rounds",), {"type": int, "help": "Most model <-> tool round trips."}),
        (("--no-run-tools",), {"action": "store_true",
                               "help": "Show tool calls without running them."}),
    ]  # fmt: skip
    for names, spec in reversed(extra_args):
        fn = argument(*names, **spec)(fn)
    for opt in reversed(OPTIONS):
        names = (opt.flag, opt.short) if opt.short and opt.short != opt.flag else (opt.flag,)
        help_text = opt.help + (f" Range {opt.range_text}." if opt.range_text else "")
        kwargs: dict[str, Any]
        if opt.kind == "bool" and opt.name == "logprobs":
            kwargs = {"action": "store_const", "const": "true"}
        elif opt.kind == "strs" and opt.name == "stop":
            kwargs = {"action": "append", "metavar": "TEXT"}
        else:
            kwargs = {
                "metavar": opt.kind.upper() if opt.kind != "choice" else "|".join(opt.choices)
            }
        help_text = help_text.replace("%", "%%")  # argparse formats help with %
        fn = argument(*names, dest=opt.name, default=None, help=help_text, **kwargs)(fn)
    return magic_arguments()(fn)  # type: ignore[no-any-return]


@magics_class
class ChatMagics(Magics):
    """``%%chat`` and ``%chat``: talk to the nscale API (or any OpenAI-compatible server)."""

    def __init__(self, shell: InteractiveShell, session: Session) -> None:
        super().__init__(shell)
        self.session = session
        #: Tool calls shown but not run (--no-run-tools), and their request.
        self.pending: tuple[tuple[ToolCall, ...], ChatRequest] | None = None
        #: The last request a %%chat sent (what %chat compare reruns).
        self.last_request: ChatRequest | None = None
        self.last_panel: Any = None  # the last %chat panel (for tests and scripting)

    # -- the magics ----------------------------------------------------------------
    @cell_magic("chat")  # type: ignore[arg-type]
    def chat_cell(self, line: str, cell: str) -> None:
        args = self._parse(line)
        if args.prompt:
            raise UsageError(
                f"%%chat: unexpected text on the magic line: {' '.join(args.prompt)!r}"
                " (options only; the cell is the prompt)"
            )
        self._run(args, cell.rstrip("\n"))  # IPython appends a newline to the cell

    @line_magic("chat")  # type: ignore[arg-type]
    def chat_line(self, line: str) -> None:
        words = line.strip().split(None, 1)
        if words and words[0] in SUBCOMMANDS:
            return SUBCOMMANDS[words[0]](self, words[1] if len(words) > 1 else "")  # type: ignore[no-any-return]
        args = self._parse(line)
        if not args.prompt:
            raise UsageError(
                "%chat PROMPT, %%chat (cell) or %chat SUBCOMMAND; "
                f"subcommands: {', '.join(sorted(SUBCOMMANDS))}"
            )
        self._run(args, " ".join(args.prompt))
        return None

    # -- parsing --------------------------------------------------------------------
    def _parse(self, line: str) -> Any:
        # POSIX splitting, so quoted JSON arrives without its quotes.
        try:
            argv = shlex.split(line)
        except ValueError as exc:  # unbalanced quotes
            raise UsageError(f"%chat: {exc} in {line!r}") from None
        return self.chat_args.parser.parse_args(argv)  # type: ignore[attr-defined]

    @_chat_arguments
    @argument("prompt", nargs="*", help="The prompt (line magic only).")
    def chat_args(self, line: str) -> None:
        """%%chat [options]: the cell is the user message. %chat [options] PROMPT."""

    def _overrides(self, args: Any) -> dict[str, Any]:
        """Inline options, parsed and validated by the option table."""
        ns = self.shell.user_ns if self.shell is not None else {}
        out: dict[str, Any] = {}
        try:
            for opt in OPTIONS:
                raw = getattr(args, opt.name)
                if raw is None:
                    continue
                if opt.name == "stop":
                    out["stop"] = opt.validate(tuple(raw))
                elif opt.name == "tools":
                    out["tools"] = raw
                elif opt.kind == "json" and raw.isidentifier() and raw in ns:
                    out[opt.name] = opt.validate(ns[raw])  # a variable holding the value
                else:
                    out[opt.name] = opt.parse(raw)
            extra: dict[str, Any] = {}
            for item in args.extra or ():
                key, eq, value = item.partition("=")
                key = key.strip()
                if not eq or not key:
                    raise OptionError(f"--extra: expected KEY=VALUE, got {item!r}")
                forced = key.startswith("!")
                key = key.lstrip("!")
                if key not in KNOWN_EXTRAS and not forced:
                    raise OptionError(
                        f"--extra: unknown vLLM field {key!r} (vLLM ignores unknown fields "
                        f"silently; write --extra !{key}=... to send it anyway)"
                    )
                try:
                    extra[key] = json.loads(value)
                except (ValueError, RecursionError):
                    extra[key] = value
            out["extra"] = extra
            if args.no_stream:
                out["stream"] = False
            if args.no_usage:
                out["include_usage"] = False
            check_combination({**self.session.settings.request_options(), **out})
        except OptionError as exc:
            raise UsageError(str(exc)) from None
        return out

    def _resolve_tools(self, spec: Any) -> tuple[dict[str, Any], ...] | None:
        if spec is None:
            names = getattr(self.session.settings, "tools", None)
            if not names:
                return None
            spec = ",".join(names)
        from ._tools import ToolSchemaError, default_registry, resolve_tools

        ns = self.shell.user_ns if self.shell is not None else {}
        registry = self.session.tools if self.session.tools is not None else default_registry()
        try:
            return resolve_tools(str(spec), registry, ns) or None
        except (KeyError, ToolSchemaError) as exc:
            raise UsageError(f"--tools: {exc.args[0]}") from None

    # -- running -------------------------------------------------------------------
    def _run(self, args: Any, text: str) -> ChatResult | None:
        overrides = self._overrides(args)
        if not args.no_interpolate and self.shell is not None:
            try:
                text = interpolate(text, self.shell.user_ns)
            except InterpolationError as exc:
                raise UsageError(str(exc)) from None
        if not text.strip():
            raise UsageError("%%chat: the cell is empty: write the prompt in the cell")
        session = self.session
        self._ensure_key()
        thread = session.new_thread(args.thread) if args.new else session.thread(args.thread)
        if args.thread:
            session.current = args.thread
        if args.system is not None:
            thread.system = args.system
        tools = self._resolve_tools(overrides.pop("tools", None))
        turn = [Message.user(text)]
        try:
            request = session.build_request([*thread.history(), *turn], overrides)
        except OptionError as exc:
            raise UsageError(str(exc)) from None
        except NscaleError as exc:
            self._error(exc)
            return None
        if tools:
            request = request.replace(tools=tools)
        session.last_prompt = turn
        self.last_request = request
        result = self._converse(request, args, turn, thread)
        if result is not None:
            if args.out:
                self.shell.user_ns[args.out] = result  # type: ignore[union-attr]
            if self.shell is not None:
                self.shell.displayhook.update_user_ns(result)  # `_` and Out[n]
        return result

    def _converse(
        self, request: ChatRequest, args: Any, turn: list[Message], thread: Thread
    ) -> ChatResult | None:
        """One turn: a single reply, or the tool loop when Python tools were offered."""
        registry = self.session.tools
        names = [t["function"]["name"] for t in request.tools or ()]
        if not (registry is not None and any(registry.get(n) for n in names)):
            result, ok, _ = self._round(request, args.quiet)
            if result is not None:
                truncated = not ok or result.truncated
                if ok or result.text or result.tool_calls or result.reasoning:
                    thread.record([*turn, result.choice.to_message(truncated=truncated)])
            if ok and result is not None and args.plot and not args.quiet:
                self._plot(result, args.plot)
            return result
        from ._tools import ToolLoop, run_calls

        settings = self.session.settings
        loop = ToolLoop(
            request,
            registry,
            max_rounds=args.max_tool_rounds or settings.max_tool_rounds,
            run_tools=settings.run_tools and not args.no_run_tools,
        )
        while True:
            result, ok, cards = self._round(loop.request(), args.quiet)
            if not ok or result is None:
                return result  # a failed or cut-off round: the turn is not recorded
            calls = loop.take(result)
            if calls is None:
                break
            self._card_status(cards, calls, "running")
            outcomes = self.session.loop.run(run_calls(calls, registry))
            for outcome in outcomes:
                self._card_status(cards, (outcome.call,), outcome.status, outcome.content)
            if not loop.add(outcomes):
                print(
                    f"nscale: stopped after {loop.max_rounds} rounds of tool calls "
                    "(--max-tool-rounds)",
                    file=sys.stderr,
                )
                break
        if loop.pending:
            self._card_status(cards, loop.pending, "waiting")
            self.pending = (loop.pending, request)
            ids = ", ".join(str(c.id) for c in loop.pending)
            print(
                f"nscale: tool calls not run ({ids}); answer with %chat tool-result ID VALUE",
                file=sys.stderr,
            )
        thread.record([*turn, *loop.added])
        return loop.result().final

    def _round(self, request: ChatRequest, quiet: bool) -> tuple[ChatResult | None, bool, Any]:
        """Stream one request into the notebook: (result or partial, ok, tool cards)."""
        from .display._stream import ChatRenderer
        from .display._toolcard import ToolCardPart

        rich = not self._terminal()
        cards = ToolCardPart(0) if rich else None
        parts: list[Any] = [cards] if cards is not None else []
        if request.logprobs and rich:
            from .display._heatmap import HeatmapPart

            parts.append(HeatmapPart(0))
        renderer = None if quiet else ChatRenderer(rich=rich, parts=parts, inline_calls=not rich)
        pump = self.session.events(request)
        if renderer is not None:
            pump.on_idle = renderer.tick
        result: ChatResult | None = None
        try:
            for item in pump:
                if renderer is not None:
                    renderer.feed(item)
                if isinstance(item, StreamDone):
                    result = item.result
        except KeyboardInterrupt:
            pump.cancel()
            partial = pump.partial()
            if renderer is not None:
                renderer.finish(partial, cut_off="interrupted")
            print(
                "nscale: interrupted; the partial reply is kept (marked cut off).", file=sys.stderr
            )
            return partial, False, None
        except StreamError as exc:
            if renderer is not None:
                renderer.finish(exc.partial, cut_off=exc.message)
            self._error(exc)
            return exc.partial, False, None
        except NscaleError as exc:
            if renderer is not None and renderer.updates:
                renderer.finish(None, cut_off=str(exc))
            self._error(exc)
            return None, False, None
        if renderer is not None:
            renderer.finish(result)
        return result, True, (renderer, cards)

    def _card_status(self, cards: Any, calls: Any, status: str, text: str | None = None) -> None:
        if not cards:
            return
        renderer, part = cards
        if part is not None:
            for call in calls:
                part.set_status(call.id, status, text)
            if renderer is not None:
                renderer.refresh()
        elif text is not None:  # terminal: one line per result
            for call in calls:
                print(f"  {call.name} -> [{status}] {text}")

    def _plot(self, result: ChatResult, kind: str) -> None:
        from IPython.display import display

        try:
            ax = result.plot_logprobs(kind)
        except ValueError as exc:
            print(f"nscale: cannot plot: {exc}", file=sys.stderr)
            return
        display(ax.figure)

    def _error(self, exc: BaseException) -> None:
        print(f"nscale: {exc}", file=sys.stderr)

    def _terminal(self) -> bool:
        return type(self.shell).__name__ == "TerminalInteractiveShell"

    def _ensure_key(self) -> None:
        if self.session.needs_key:
            key = getpass.getpass("nscale API key (NSCALE_API_KEY is not set): ")
            if not key.strip():
                raise UsageError("no API key: set NSCALE_API_KEY or enter it when asked")
            self.session.set_key(key)


# -- subcommands ---------------------------------------------------------------------
@subcommand("new")
def _new(m: ChatMagics, rest: str) -> None:
    """%chat new [THREAD]: start the current (or named) thread afresh."""
    name = rest.strip() or None
    m.session.new_thread(name)
    if name:
        m.session.current = name
    print(f"new thread: {m.session.current}")


@subcommand("thread")
def _thread(m: ChatMagics, rest: str) -> None:
    """%chat thread NAME: switch the current thread."""
    if not rest.strip():
        raise UsageError("%chat thread NAME")
    m.session.current = rest.strip()
    m.session.thread()
    print(f"current thread: {m.session.current}")


@subcommand("threads")
def _threads(m: ChatMagics, rest: str) -> None:
    """%chat threads: list threads."""
    for name, thread in m.session.threads.items():
        mark = "*" if name == m.session.current else " "
        print(f"{mark} {name}: {len(thread.messages)} messages")


@subcommand("system")
def _system(m: ChatMagics, rest: str) -> None:
    """%chat system "TEXT": the current thread's system prompt ("" removes it)."""
    words = shlex.split(rest) if rest.strip() else [""]
    m.session.thread().system = " ".join(words) or None


@subcommand("undo")
def _undo(m: ChatMagics, rest: str) -> None:
    """%chat undo: drop the last turn of the current thread."""
    messages = m.session.thread().messages
    while messages and messages[-1].role != "user":
        messages.pop()
    if messages:
        messages.pop()


@subcommand("history")
def _history(m: ChatMagics, rest: str) -> None:
    """%chat history [THREAD]: the thread as a transcript."""
    from IPython.display import display

    from .display._transcript import transcript_bundle

    thread = m.session.thread(rest.strip() or None)
    display(transcript_bundle(thread.name, thread.history()), raw=True)


@subcommand("set")
def _set(m: ChatMagics, rest: str) -> None:
    """%chat set temperature=0.7 model=NAME ...: session defaults (NAME=none unsets)."""
    values: dict[str, Any] = {}
    try:
        for word in shlex.split(rest):
            name, eq, text = word.partition("=")
            if not eq:
                raise OptionError(f"%chat set: expected NAME=VALUE, got {word!r}")
            key, value = parse_option(name, text)
            values[key] = value
        m.session.settings.update_options(values)
    except (OptionError, ValueError) as exc:
        raise UsageError(str(exc)) from None


@subcommand("settings")
def _settings(m: ChatMagics, rest: str) -> None:
    """%chat settings: the session defaults."""
    print(m.session.settings.describe())
    print(f"key: {'set' if m.session.has_key else 'not set'}")


@subcommand("models")
def _models(m: ChatMagics, rest: str) -> None:
    """%chat models: the server's models."""
    try:
        for model in m.session.models():
            print(model)
    except NscaleError as exc:
        m._error(exc)


@subcommand("key")
def _key(m: ChatMagics, rest: str) -> None:
    """%chat key: enter the API key (hidden input); it is kept in memory only."""
    key = getpass.getpass("nscale API key: ")
    if key.strip():
        m.session.set_key(key)
        print("key set")


@subcommand("help")
def _help(m: ChatMagics, rest: str) -> None:
    """%chat help: subcommands."""
    for name, fn in sorted(SUBCOMMANDS.items()):
        print(f"%chat {name:<12} {(fn.__doc__ or '').split(': ', 1)[-1].strip()}")
    print("%%chat [options]  the cell is the prompt; %%chat? lists every option")


# -- loading -------------------------------------------------------------------------
def load_ipython_extension(ipython: InteractiveShell) -> None:
    session = _api.default_session()
    loaded = ipython.magics_manager.registry.get("ChatMagics")
    if isinstance(loaded, ChatMagics) and loaded.session is session:
        return  # autoloaded already: a notebook's own %load_ext changes nothing
    if session.tools is None:
        from ._tools import default_registry

        session.tools = default_registry()
    magics = ChatMagics(ipython, session)
    ipython.register_magics(magics)
    configurables: list[Any] = ipython.configurables
    if session.settings not in configurables:
        configurables.append(session.settings)
    # Apply settings from config files / %config set before loading.
    session.settings.update_config(ipython.config)
    _load_plugins()


def _load_plugins() -> None:
    """Subcommands from other modules (tools, panel, local engine), when present."""
    import importlib

    for name in ("._tool_magics", "._compare_magics", ".widgets._magics", "._local_magics"):
        try:
            importlib.import_module(name, __package__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(__package__ or "nscale_jupyter"):
                continue
            raise


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("chat", None)
    manager.registry.pop("ChatMagics", None)
    session = _api.default_session()
    configurables: list[Any] = ipython.configurables
    if session.settings in configurables:
        configurables.remove(session.settings)
    session.close()
    _api.set_default_session(None)
