"""The ``%%chat`` cell magic and ``%chat`` line magic: a face of the turn engine.

Flags are generated from the option table and decorate the magics
themselves, so ``%%chat?`` lists every option. Bad options raise
``UsageError`` (one line naming the option, never a traceback). A cell
becomes a :class:`TurnSpec`; the session runs the turn and this module only
renders its events. ``%chat SUBCOMMAND`` runs one of ``_subcommands``.
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
from ._interpolate import InterpolationError, interpolate
from ._options import KNOWN_EXTRAS, OPTIONS, OptionError
from ._results import ChatResult
from ._session import Session
from ._turn import Turn, TurnOutcome, TurnSpec
from ._types import Message

__all__ = ["ChatMagics", "load_ipython_extension", "unload_ipython_extension"]

#: Flags that are not request options: how the turn is run and shown.
_TURN_FLAGS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--system",), {"help": "System prompt of the thread (\"\" for none)."}),
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
    (("--max-tool-rounds",), {"type": int, "metavar": "N",
                              "help": "Most model <-> tool round trips (at least 1)."}),
    (("--no-run-tools",), {"action": "store_true",
                           "help": "Show tool calls without running them."}),
    (("--over",), {"metavar": "VAR",
                   "help": "Batch: the cell is a template ({item}, {column}) filled from "
                           "each item of the list or DataFrame in VAR."}),
    (("--concurrency",), {"type": int, "metavar": "N",
                          "help": "Batch: requests at a time (default 8)."}),
    (("--into",), {"metavar": "COLUMN",
                   "help": "Batch: the result is a new DataFrame with the answers in COLUMN."}),
    (("--checkpoint",), {"metavar": "PATH",
                         "help": "Batch: keep finished rows in PATH; a rerun sends the rest."}),
]  # fmt: skip


def chat_arguments(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a magic with one ``@argument`` per option of the table, and the turn flags."""
    for names, spec in reversed(_TURN_FLAGS):
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
    return fn


@magics_class
class ChatMagics(Magics):
    """``%%chat`` and ``%chat``: talk to the nscale API (or any OpenAI-compatible server)."""

    def __init__(self, shell: InteractiveShell, session: Session) -> None:
        super().__init__(shell)
        self.session = session
        self.last_panel: Any = None  # the last %chat panel (for tests and scripting)

    # -- the magics ----------------------------------------------------------------
    @magic_arguments()
    @chat_arguments
    @cell_magic("chat")  # type: ignore[arg-type]
    def chat_cell(self, line: str, cell: str) -> None:
        """%%chat [options]: the cell is the user message; the reply streams below."""
        args = self._parse(self.chat_cell, line)
        if args is not None:
            self._run(args, cell.rstrip("\n"))  # IPython appends a newline to the cell

    @magic_arguments()
    @chat_arguments
    @argument("prompt", nargs="*", help="The prompt (or a subcommand: %%chat help).")
    @line_magic("chat")  # type: ignore[arg-type]
    def chat_line(self, line: str) -> None:
        """%chat [options] PROMPT, or %chat SUBCOMMAND (%chat help lists them)."""
        from ._subcommands import dispatch

        if dispatch(self, line):
            return
        args = self._parse(self.chat_line, line)
        if args is None:
            return
        if not args.prompt:
            raise UsageError("%chat PROMPT, %%chat (cell) or %chat SUBCOMMAND (see %chat help)")
        self._run(args, " ".join(args.prompt))

    # -- parsing --------------------------------------------------------------------
    def _parse(self, magic: Any, line: str) -> Any:
        """The parsed options (None after showing ``--help``)."""
        try:
            argv = shlex.split(line)  # POSIX: quoted JSON arrives without its quotes
        except ValueError as exc:  # unbalanced quotes
            raise UsageError(f"%chat: {exc} in {line!r}") from None
        if "--help" in argv or "-h" in argv:
            print(magic.parser.format_help())
            return None
        args = magic.parser.parse_args(argv)
        if getattr(args, "prompt", None) and magic is self.chat_cell:
            raise UsageError(f"%%chat: unexpected text on the magic line: {args.prompt!r}")
        return args

    def _options(self, args: Any) -> dict[str, Any]:
        """Inline request options, parsed and validated by the option table."""
        ns = self.shell.user_ns if self.shell is not None else {}
        out: dict[str, Any] = {}
        for opt in OPTIONS:
            raw = getattr(args, opt.name)
            if raw is None or opt.name == "tools":
                continue
            if opt.name == "stop":
                out["stop"] = opt.validate(tuple(raw))
            elif opt.kind == "json" and raw.isidentifier() and raw in ns:
                out[opt.name] = opt.validate(ns[raw])  # a variable holding the value
            else:
                out[opt.name] = opt.parse(raw)
        return out

    def _extra(self, args: Any) -> dict[str, Any]:
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
        return extra

    def _tools(self, spec: str | None) -> Any:
        """``--tools``: registered names, or a notebook variable holding tools."""
        if spec is None:
            return None
        from ._tools import ToolSchemaError, resolve_tools

        ns = self.shell.user_ns if self.shell is not None else {}
        try:
            return resolve_tools(spec, self.session.tool_registry(), ns)
        except (KeyError, ToolSchemaError) as exc:
            raise UsageError(f"--tools: {exc.args[0]}") from None

    def spec(self, args: Any, text: str) -> TurnSpec:
        """The turn a cell asks for (checked: a bad option is a UsageError)."""
        if args.max_tool_rounds is not None and args.max_tool_rounds < 1:
            raise UsageError("--max-tool-rounds: at least 1")
        try:
            options = self._options(args)
            extra = self._extra(args)
        except OptionError as exc:
            raise UsageError(str(exc)) from None
        return TurnSpec(
            prompt=(Message.user(text),),
            thread=args.thread or self.session.current,
            options=options,
            tools=self._tools(getattr(args, "tools", None)),
            extra=extra,
            stream=False if args.no_stream else None,
            include_usage=False if args.no_usage else None,
            max_tool_rounds=args.max_tool_rounds,
            run_tools=False if args.no_run_tools else None,
        )

    # -- running -------------------------------------------------------------------
    def _run(self, args: Any, text: str) -> ChatResult | None:
        if args.over is not None:
            self._batch(args, text)
            return None
        if args.concurrency is not None or args.into or args.checkpoint:
            raise UsageError("--concurrency, --into and --checkpoint go with --over VAR")
        if not args.no_interpolate and self.shell is not None:
            try:
                text = interpolate(text, self.shell.user_ns)
            except InterpolationError as exc:
                raise UsageError(str(exc)) from None
        if not text.strip():
            raise UsageError("%%chat: the cell is empty: write the prompt in the cell")
        spec = self.spec(args, text)
        self._ensure_key()
        session = self.session
        if args.thread:
            session.current = args.thread
        if args.new:
            session.new_thread(spec.thread)
        if args.system is not None:
            session.thread(spec.thread).system = args.system
        outcome = self.show(self.start(spec), quiet=args.quiet)
        result = outcome.result if outcome is not None else None
        if result is None or outcome is None:
            return None
        if args.plot and not args.quiet and outcome.cut_off is None:
            self._plot(result, args.plot)
        if args.out:
            self.shell.user_ns[args.out] = result  # type: ignore[union-attr]
        if self.shell is not None:
            self.shell.displayhook.update_user_ns(result)  # `_` and Out[n]
        return result

    def _batch(self, args: Any, template: str) -> Any:
        """``--over VAR``: the cell is a template sent once per item (``batch()``)."""
        from ._evaluate import batch

        ns = self.shell.user_ns if self.shell is not None else {}
        if args.over not in ns:
            raise UsageError(f"--over: no variable {args.over!r} in the notebook")
        if args.concurrency is not None and args.concurrency < 1:
            raise UsageError("--concurrency: at least 1")
        try:
            options: dict[str, Any] = {**self._options(args), "extra": self._extra(args)}
        except OptionError as exc:
            raise UsageError(str(exc)) from None
        if args.no_stream:
            options["stream"] = False
        self._ensure_key()
        try:
            result = batch(
                ns[args.over],
                template if template.strip() else None,
                concurrency=args.concurrency or 8,
                checkpoint=args.checkpoint,
                progress=not args.quiet,
                session=self.session,
                **options,
            )
        except OptionError as exc:
            raise UsageError(str(exc)) from None
        value = result.to_pandas(into=args.into) if args.into else result
        if args.out:
            ns[args.out] = value
        if self.shell is not None:
            self.shell.displayhook.update_user_ns(value)
        if not args.quiet:
            from IPython.display import display

            display(result)
            if result.failed:
                _say(f"{len(result.failed)} row(s) failed; see .errors")
        return value

    def start(self, spec: TurnSpec) -> Turn:
        """The session's turn for ``spec`` (bad options and tools: a UsageError)."""
        from ._tools import ToolSchemaError

        try:
            return self.session.turn(spec)
        except (OptionError, ToolSchemaError) as exc:
            raise UsageError(str(exc)) from None
        except KeyError as exc:
            raise UsageError(f"--tools: {exc.args[0]}") from None

    def show(self, turn: Turn, *, quiet: bool = False) -> TurnOutcome | None:
        """Run ``turn`` here, rendering its events; one stderr line for what went wrong."""
        from .display._turn import TurnRenderer

        renderer = None
        if not quiet:
            renderer = TurnRenderer(rich=not self._terminal(), on_notice=_say)
            turn.on_idle = renderer.tick
        try:
            for event in turn:
                if renderer is not None:
                    renderer.feed(event)
        except KeyboardInterrupt:
            for event in turn.cancel():  # what arrived before the interrupt, then the end
                if renderer is not None:
                    renderer.feed(event)
            _say("interrupted; the partial reply is kept (marked cut off).")
            return turn.outcome
        outcome = turn.outcome
        if outcome is not None and outcome.error is not None:
            _say(str(outcome.error))
        if outcome is not None and outcome.pending:
            ids = ", ".join(str(c.id) for c in outcome.pending)
            _say(f"tool calls not run ({ids}); answer with %chat tool-result ID VALUE")
        return outcome

    def _plot(self, result: ChatResult, kind: str) -> None:
        from IPython.display import display

        try:
            ax = result.plot_logprobs(kind)
        except ValueError as exc:
            _say(f"cannot plot: {exc}")
            return
        display(ax.figure)

    def _terminal(self) -> bool:
        return type(self.shell).__name__ == "TerminalInteractiveShell"

    def _ensure_key(self) -> None:
        if self.session.needs_key:
            key = getpass.getpass("nscale API key (NSCALE_API_KEY is not set): ")
            if not key.strip():
                raise UsageError("no API key: set NSCALE_API_KEY or enter it when asked")
            self.session.set_key(key)


def _say(text: str) -> None:
    """One line on stderr: how every face of the magic reports a problem."""
    print(f"nscale: {text}", file=sys.stderr)


# -- loading -------------------------------------------------------------------------
def load_ipython_extension(ipython: InteractiveShell) -> None:
    session = _api.default_session()
    loaded = ipython.magics_manager.registry.get("ChatMagics")
    if isinstance(loaded, ChatMagics) and loaded.session is session:
        return  # autoloaded already: a notebook's own %load_ext changes nothing
    magics = ChatMagics(ipython, session)
    ipython.register_magics(magics)
    configurables: list[Any] = ipython.configurables
    if session.settings not in configurables:
        configurables.append(session.settings)
    # Apply settings from config files / %config set before loading.
    session.settings.update_config(ipython.config)


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
