"""``%chat SUBCOMMAND``: every subcommand, and the rule that tells one from a prompt.

A line runs a subcommand when its first word names one *and* the words
after it fit that subcommand's arguments (quote text that has spaces);
otherwise the whole line is a prompt. So ``%chat new`` starts the thread
afresh while ``%chat new ideas for a startup`` asks the model, and
``%chat system "Be brief"`` sets the system prompt while ``%chat system
prompt design is hard`` is a question. A subcommand's name alone that needs
arguments (``%chat export``) is a usage error, not a prompt. The thread
subcommands are in ``_thread_commands``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ._exceptions import NscaleError
from ._options import OptionError, parse_option
from ._turn import TurnSpec

if TYPE_CHECKING:
    from ._magics import ChatMagics

__all__ = ["SUBCOMMANDS", "dispatch"]

Handler = Callable[["ChatMagics", str], Any]


@dataclass(frozen=True)
class Subcommand:
    """A handler and the shape of its arguments (what makes a line this subcommand)."""

    handler: Handler
    fits: Callable[[list[str]], bool]
    usage: str


SUBCOMMANDS: dict[str, Subcommand] = {}


def no_words(words: list[str]) -> bool:
    return not words


def optional_word(words: list[str]) -> bool:
    return len(words) <= 1


def one_word(words: list[str]) -> bool:
    return len(words) == 1


def _assignments(words: list[str]) -> bool:
    """NAME=VALUE words (and ``--flag N`` pairs)."""
    rest = [
        w
        for i, w in enumerate(words)
        if not (w.startswith("--") or (i and words[i - 1].startswith("--")))
    ]
    return bool(rest) and all("=" in w for w in rest)


def _any(words: list[str]) -> bool:
    return True


def subcommand(
    name: str, fits: Callable[[list[str]], bool], usage: str
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        SUBCOMMANDS[name] = Subcommand(fn, fits, usage)
        return fn

    return register


def dispatch(m: ChatMagics, line: str) -> bool:
    """Run the subcommand ``line`` names, if its arguments fit; False: it is a prompt."""
    head, _, rest = line.strip().partition(" ")
    command = SUBCOMMANDS.get(head)
    if command is None:
        return False
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        if command.fits is _assignments and "=" in rest.split(None, 1)[0]:
            raise UsageError(f"{command.usage}: {exc} in {rest!r}") from None
        return False  # unbalanced quotes: a prompt ("help me with Bob's code")
    if not command.fits(words):
        if not words:  # a subcommand's name alone is never a question for the model
            raise UsageError(f"usage: {command.usage}")
        return False
    command.handler(m, rest.strip())
    return True


# -- settings --------------------------------------------------------------------------
@subcommand("set", _assignments, "%chat set NAME=VALUE ...")
def _set(m: ChatMagics, rest: str) -> None:
    """session defaults, e.g. temperature=0.7 model=NAME (NAME=none: back to the default)."""
    values: dict[str, Any] = {}
    try:
        for word in shlex.split(rest):
            name, _, text = word.partition("=")
            key, value = parse_option(name, text)
            values[key] = value
        m.session.settings.update_options(values)
    except (OptionError, ValueError) as exc:
        raise UsageError(str(exc)) from None


@subcommand("settings", no_words, "%chat settings")
def _settings(m: ChatMagics, rest: str) -> None:
    """the session defaults."""
    print(m.session.settings.describe())
    print(f"key: {'set' if m.session.has_key else 'not set'}")


@subcommand("models", no_words, "%chat models")
def _models(m: ChatMagics, rest: str) -> None:
    """the server's models."""
    try:
        for model in m.session.models():
            print(model)
    except NscaleError as exc:
        raise UsageError(str(exc)) from None


@subcommand("key", no_words, "%chat key")
def _key(m: ChatMagics, rest: str) -> None:
    """enter the API key (hidden input); it is kept in memory only."""
    from ._magics import ask_key

    key = ask_key("nscale API key: ")
    if key.strip():
        m.session.set_key(key)
        print("key set")


@subcommand("help", no_words, "%chat help")
def _help(m: ChatMagics, rest: str) -> None:
    """this list."""
    for _, command in sorted(SUBCOMMANDS.items()):
        print(f"{command.usage:<34} {(command.handler.__doc__ or '').strip()}")
    print("%%chat [options]                   the cell is the prompt; %%chat? lists every option")
    print("%chat [options] PROMPT             a one-line prompt (a line that does not fit a")
    print("                                   subcommand's arguments is a prompt too)")


# -- tools -----------------------------------------------------------------------------
@subcommand("tools", no_words, "%chat tools")
def _tools(m: ChatMagics, rest: str) -> None:
    """registered tools and their schemas."""
    registry = m.session.tool_registry()
    if not len(registry):
        print("no tools registered: decorate a function with @nscale_jupyter.tool")
        return
    for schema in registry.schemas():
        runs = "runs" if registry.get(schema["function"]["name"]) else "schema only"
        print(f"{schema['function']['name']} ({runs}):")
        print(json.dumps(schema["function"], indent=2, ensure_ascii=False))


@subcommand("tool", one_word, "%chat tool NAME")
def _tool(m: ChatMagics, rest: str) -> None:
    """register the notebook function NAME as a tool."""
    from ._tools import ToolSchemaError

    namespace = m.shell.user_ns if m.shell is not None else {}
    if rest not in namespace or not callable(namespace[rest]):
        raise UsageError(f"%chat tool NAME: no function named {rest!r} in the notebook")
    try:
        schema = m.session.tool_registry().register(namespace[rest])
    except ToolSchemaError as exc:
        raise UsageError(str(exc)) from None
    print(f"registered tool {schema['function']['name']}")


@subcommand("tool-result", _any, "%chat tool-result ID VALUE")
def _tool_result(m: ChatMagics, rest: str) -> None:
    """answer a tool call by hand (VALUE as typed); the model then goes on in its thread."""
    call_id, _, value = rest.partition(" ")
    if not call_id or not value.strip():
        raise UsageError("%chat tool-result ID VALUE")
    try:
        thread = m.session.answer_tool(call_id, value.strip())
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    if thread.pending:
        print(f"still waiting for: {', '.join(str(c.id) for c in thread.pending)}")
        return
    outcome = m.show(m.start(TurnSpec(thread=thread.name)))
    if outcome is not None and outcome.result is not None and m.shell is not None:
        m.shell.displayhook.update_user_ns(outcome.result)


# -- cassettes and usage ------------------------------------------------------------------
def _cassette_args(words: list[str]) -> bool:
    if words in ([], ["off"]):
        return True
    rest = words[1:]
    return (
        len(words) in (1, 3)
        and not words[0].startswith("-")
        and (not rest or (rest[0] == "--mode" and rest[1] in ("record", "replay", "auto")))
    )


@subcommand("cassette", _cassette_args, "%chat cassette [PATH] [--mode M], off")
def _cassette(m: ChatMagics, rest: str) -> None:
    """record/replay answers in PATH (mode auto, record or replay); off stops."""
    words = shlex.split(rest)
    settings = m.session.settings
    if words == ["off"]:
        settings.cassette, settings.cassette_mode = None, None
        print("cassette off")
        return
    if words:
        settings.cassette = words[0]
        settings.cassette_mode = words[2] if len(words) == 3 else None
    try:
        cassette = m.session.cassette
    except NscaleError as exc:
        settings.cassette = None
        raise UsageError(str(exc)) from None
    if cassette is None:
        print("no cassette: %chat cassette PATH [--mode record|replay|auto]")
        return
    print(f"cassette {cassette.path} ({cassette.mode}, {len(cassette.entries)} recordings)")


@subcommand("usage", lambda w: w in ([], ["--reset"]), "%chat usage [--reset]")
def _usage(m: ChatMagics, rest: str) -> None:
    """requests and tokens per thread and for the session, live and replayed."""
    session = m.session
    if rest.strip() == "--reset":
        session.meter.reset()
        print("usage reset")
        return
    priced = bool(session.settings.prices) or session.meter.total().cost > 0
    print(session.meter.report(priced=priced))
    s = session.settings
    spent = session.meter.total("live")
    if s.budget_tokens is not None:
        print(f"token budget: {spent.total_tokens} of {s.budget_tokens} spent")
    if s.budget_cost is not None:
        print(f"cost budget: {spent.cost:.6f} of {s.budget_cost:g} spent")


# -- compare, panel, local engine --------------------------------------------------------
@subcommand(
    "compare", _assignments, "%chat compare FIELD=V1,V2,... or seed=1..8 [--concurrency N]"
)
def _compare(m: ChatMagics, rest: str) -> Any:
    """rerun the last prompt once per value, side by side."""
    from ._compare import parse_values

    words = shlex.split(rest)
    concurrency = 4
    if "--concurrency" in words:
        i = words.index("--concurrency")
        try:
            concurrency = int(words[i + 1])
        except (IndexError, ValueError):
            raise UsageError("--concurrency N (a whole number)") from None
        del words[i : i + 2]
    if len(words) != 1:
        raise UsageError("%chat compare FIELD=V1,V2,... e.g. temperature=0,0.7,1.5")
    try:
        name, values = parse_values(words[0])
    except OptionError as exc:
        raise UsageError(str(exc)) from None
    request = m.session.last_request
    if request is None:
        raise UsageError("nothing to compare yet: run a %%chat first")
    comparisons = m.session.compare(request, name, values, concurrency=concurrency)
    from IPython.display import display

    from .display._compare import compare_bundle

    display(compare_bundle(comparisons), raw=True)
    if m.shell is not None:
        m.shell.displayhook.update_user_ns(comparisons)


@subcommand("panel", no_words, "%chat panel")
def _panel(m: ChatMagics, rest: str) -> None:
    """live sampling controls bound to the session settings."""
    from .widgets import panel

    m.last_panel = panel(m.session)


_engines: list[Any] = []


def _local_args(words: list[str]) -> bool:
    return words == ["--stop"] or (len(words) <= 1 and not any(w.startswith("-") for w in words))


@subcommand("local", _local_args, "%chat local [MODEL_DIR] [--stop]")
def _local(m: ChatMagics, rest: str) -> None:
    """start a local vLLM engine (about a minute) and use it; --stop stops it."""
    from .local import EngineError, start

    words = shlex.split(rest)
    if words == ["--stop"]:
        while _engines:
            _engines.pop().stop()
        m.session.settings.base_url = None
        print("local engine stopped")
        return
    if _engines and _engines[-1].running:
        engine = _engines[-1]
    else:
        print("starting the local vLLM engine (about a minute)...", flush=True)
        try:
            engine = start(words[0] if words else None)
        except EngineError as exc:
            raise UsageError(str(exc)) from None
        _engines.append(engine)
    m.session.settings.base_url = engine.base_url
    m.session.settings.update_options({"model": engine.model})
    print(f"using the local engine at {engine.base_url} (model {engine.model})")


from . import _thread_commands  # noqa: E402, F401  (its subcommands register on import)
