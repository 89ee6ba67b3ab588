"""The ``%%chat`` cell magic and ``%chat`` line magic: a face of the turn engine.

Flags are generated from the option table and decorate the magics
themselves, so ``%%chat?`` lists every option. Bad options raise
``UsageError`` (one line naming the option, never a traceback). A cell
becomes a :class:`TurnSpec` (``_magic_spec``); the session runs the turn and
this module only renders its events. ``%chat SUBCOMMAND`` runs one of ``_subcommands``.
"""

from __future__ import annotations

import getpass
import shlex
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from . import _api
from ._exceptions import NscaleError
from ._flags import chat_arguments
from ._input import question_marks, split_line
from ._interpolate import InterpolationError, interpolate
from ._magic_spec import cell_spec, extra_fields, inline_options
from ._options import OptionError
from ._results import ChatResult
from ._session import Session
from ._turn import Turn, TurnSpec
from ._turn_events import TurnOutcome

__all__ = ["ChatMagics", "load_ipython_extension", "unload_ipython_extension"]


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
        """%chat [options] PROMPT, or %chat SUBCOMMAND (%chat help lists them).

        Options come first; the rest of the line is the prompt, as typed
        (quotes and apostrophes included).
        """
        from ._subcommands import dispatch

        if dispatch(self, line):
            return
        try:
            argv, prompt = split_line(line)
        except ValueError as exc:  # unbalanced quotes among the options
            raise UsageError(f"%chat: {exc} in the options of {line!r}") from None
        args = self._parse(self.chat_line, argv)
        if args is None:
            return
        if not prompt and not args.image:
            raise UsageError("%chat PROMPT, %%chat (cell) or %chat SUBCOMMAND (see %chat help)")
        self._run(args, prompt)

    # -- parsing --------------------------------------------------------------------
    def _parse(self, magic: Any, line: str | list[str]) -> Any:
        """The parsed options (None after showing ``--help``)."""
        if isinstance(line, str):
            try:
                argv = shlex.split(line)  # POSIX: quoted JSON arrives without its quotes
            except ValueError as exc:  # unbalanced quotes
                raise UsageError(f"%chat: {exc} in {line!r}") from None
        else:
            argv = line
        if "--help" in argv or "-h" in argv:
            print(magic.parser.format_help())
            return None
        args = magic.parser.parse_args(argv)
        if getattr(args, "prompt", None) and magic is self.chat_cell:
            raise UsageError(f"%%chat: unexpected text on the magic line: {args.prompt!r}")
        if args.out is not None and not args.out.isidentifier():
            raise UsageError(f"--out: {args.out!r} is not a variable name")
        return args

    def spec(self, args: Any, text: str) -> TurnSpec:
        """The turn a cell asks for (checked: a bad option is a UsageError)."""
        ns = self.shell.user_ns if self.shell is not None else {}
        return cell_spec(args, text, self.session, ns, say=_say)

    # -- running -------------------------------------------------------------------
    def _run(self, args: Any, text: str) -> ChatResult | None:
        if args.over is not None:
            if args.image:
                raise UsageError("--image does not go with --over (a batch sends text only)")
            self._batch(args, text)
            return None
        if args.concurrency is not None or args.into or args.checkpoint or args.no_wait:
            raise UsageError("--concurrency, --into, --checkpoint, --no-wait go with --over VAR")
        if not args.no_interpolate and self.shell is not None:
            try:
                text = interpolate(text, self.shell.user_ns)
            except InterpolationError as exc:
                raise UsageError(str(exc)) from None
        if not text.strip() and not args.image:
            raise UsageError("%%chat: the cell is empty: write the prompt in the cell")
        spec = self.spec(args, text)
        try:
            self._ensure_key()
        except NscaleError as exc:  # a base URL that is not one
            raise UsageError(str(exc)) from None
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
        if result.prompt_logprobs and not args.quiet and outcome.cut_off is None:
            from IPython.display import display

            heatmap = result.prompt_heatmap()
            display({"text/html": heatmap.html, "text/plain": heatmap.text}, raw=True)
        if args.branch and not args.quiet and outcome.cut_off is None:
            if any(e.top_logprobs for e in result.logprobs or ()):
                from .widgets import branch_picker

                branch_picker(result, self.session)
            else:
                _say("--branch: no alternatives to branch with; add --logprobs --top-logprobs K")
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
        if args.no_wait and args.into:
            raise UsageError("--into needs the finished batch: with --no-wait, "
                             "use run.result().to_pandas(into=COLUMN)")  # fmt: skip
        try:
            options: dict[str, Any] = {**inline_options(args, ns), "extra": extra_fields(args)}
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
                wait=not args.no_wait,
                session=self.session,
                **options,
            )
        except OptionError as exc:
            raise UsageError(str(exc)) from None
        if args.no_wait:  # a BatchRun: its bar (in a notebook) is the output
            if args.out:
                ns[args.out] = result
            if self.shell is not None:
                self.shell.displayhook.update_user_ns(result)
            return result
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
        except NscaleError as exc:
            raise UsageError(str(exc)) from None

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

        # The filters view replays this request's own knobs.
        knobs = knobs_of(result.request) if kind == "filters" else {}
        try:
            ax = result.plot_logprobs(kind, **knobs)
        except ValueError as exc:
            _say(f"cannot plot: {exc}")
            return
        display(ax.figure)

    def _terminal(self) -> bool:
        return type(self.shell).__name__ == "TerminalInteractiveShell"

    def _ensure_key(self) -> None:
        if self.session.needs_key:
            key = ask_key("nscale API key (NSCALE_API_KEY is not set): ")
            if not key.strip():
                raise UsageError("no API key: set NSCALE_API_KEY or enter it when asked")
            self.session.set_key(key)


def ask_key(prompt: str) -> str:
    """The key, typed hidden; a front end that cannot ask (nbclient, papermill) gets one line."""
    from IPython.core.error import StdinNotImplementedError

    try:
        return getpass.getpass(prompt)
    except (StdinNotImplementedError, EOFError):
        raise UsageError(
            "no API key, and this front end cannot ask for one: set NSCALE_API_KEY in the "
            "environment that starts Jupyter (or use %chat local for the local engine)"
        ) from None


def knobs_of(request: Any) -> dict[str, Any]:
    """The sampling knobs a request sent (what the filters view replays)."""
    if request is None:
        return {}
    sent = {**request.extra, "temperature": request.temperature, "top_p": request.top_p}
    return {
        k: sent[k] for k in ("temperature", "top_p", "top_k", "min_p") if sent.get(k) is not None
    }


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
    if question_marks not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(question_marks)
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
    if question_marks in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(question_marks)
    session = _api.default_session()
    configurables: list[Any] = ipython.configurables
    if session.settings in configurables:
        configurables.remove(session.settings)
    session.close()
    _api.set_default_session(None)
