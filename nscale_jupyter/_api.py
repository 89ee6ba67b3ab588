"""``chat()`` and ``achat()``: the Python API, for scripts, tests and other tools.

Both run one turn of the turn engine, exactly as ``%%chat`` does: the same
options, system prompt, tool loop and recording.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ._branching import Branch, BranchPoint, branch_point, branch_request, refused
from ._options import OptionError, option
from ._results import ChatResult
from ._session import Session
from ._turn import Turn, TurnSpec
from ._turn_events import TurnOutcome
from ._types import ContentPart, Message

__all__ = [
    "abranch",
    "achat",
    "answer",
    "branch",
    "branch_turn",
    "cassette",
    "chat",
    "default_session",
]

_default: Session | None = None
#: Keyword arguments that are not request options.
_TURN_KEYS = ("stream", "include_usage", "max_tool_rounds", "run_tools")

Prompt = str | Message | Sequence[Message | Mapping[str, Any]]


def default_session() -> Session:
    """The session ``chat()`` uses (the magics share it once loaded)."""
    global _default
    if _default is None:
        _default = Session()
    return _default


def set_default_session(session: Session | None) -> None:
    global _default
    _default = session


def _messages(prompt: Prompt) -> tuple[Message, ...]:
    if isinstance(prompt, str):
        return (Message.user(prompt),)
    if isinstance(prompt, Message):
        return (prompt,)
    if not isinstance(prompt, Sequence):
        raise OptionError(f"chat(): expected text or messages, got {type(prompt).__name__}")
    out = []
    for m in prompt:
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, Mapping) and isinstance(m.get("role"), str):
            out.append(Message.from_json(m))
        else:
            raise OptionError(f"chat(): a message needs a 'role', got {m!r:.80}")
    if not out:
        raise OptionError("chat(): nothing to send")
    return tuple(out)


def _with_images(messages: tuple[Message, ...], images: Any) -> tuple[Message, ...]:
    """The images join the last message, which must be the user's."""
    from ._images import image_parts

    parts = image_parts(images)
    last = messages[-1]
    if last.role != "user":
        raise OptionError(f"chat(images=...): the last message is {last.role!r}, not 'user'")
    if isinstance(last.content, tuple):
        content: str | tuple[ContentPart, ...] | None = (*last.content, *parts)
    else:
        content = Message.prompt(last.content or "", parts).content
    return (*messages[:-1], replace(last, content=content))


def _spec(
    prompt: Prompt, thread: str | None, tools: Any, options: dict[str, Any], images: Any = None
) -> TurnSpec:
    turn = {k: options.pop(k) for k in _TURN_KEYS if k in options}
    extra = dict(options.pop("extra", None) or {})
    checked = {}
    for name, value in options.items():
        opt = option(name)
        checked[opt.name] = opt.validate(value)
    messages = _messages(prompt)
    if images is not None:
        messages = _with_images(messages, images)
    return TurnSpec(messages, thread, checked, tools=tools, extra=extra, **turn)


def _result(outcome: TurnOutcome) -> ChatResult:
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    return outcome.result


def chat(
    prompt: Prompt,
    *,
    thread: str | None = None,
    tools: Any = None,
    images: Any = None,
    session: Session | None = None,
    **options: Any,
) -> ChatResult:
    """Send a prompt (or messages) and return the reply.

    ``options`` are the request options of the option table
    (``temperature=0``, ``max_tokens=50``, ``extra={"top_k": 5}``...), plus
    ``stream``, ``max_tool_rounds`` and ``run_tools``. ``tools`` offers tools:
    registered names, OpenAI-style dicts or Python functions (run when the
    model calls them). With ``thread=NAME`` the turn continues and extends
    that thread. ``images`` (one or a list: file paths, http(s) URLs, bytes,
    matplotlib Figures, PIL images) go with the prompt, for a vision model;
    local ones are sent as ``data:`` URIs, scaled down when large.
    """
    session = session or default_session()
    return _result(session.turn(_spec(prompt, thread, tools, options, images)).wait())


async def achat(
    prompt: Prompt,
    *,
    thread: str | None = None,
    tools: Any = None,
    images: Any = None,
    session: Session | None = None,
    **options: Any,
) -> ChatResult:
    """The awaitable ``chat()``: ``result = await achat("hi")`` in a notebook cell.

    The whole turn runs on the session's loop; the caller's loop hears once.
    """
    session = session or default_session()
    return _result(await session.turn(_spec(prompt, thread, tools, options, images)).run())


def answer(call_id: str, content: str, *, session: Session | None = None) -> ChatResult | None:
    """Answer a tool call left for a person (an OpenAI-style tool dict without a function).

    The answer is recorded in the thread the call came from; once every
    waiting call there has one, the model goes on and its reply is returned
    (None while others still wait). ``%chat tool-result ID VALUE`` does the same.
    """
    session = session or default_session()
    thread = session.answer_tool(call_id, content)
    if thread.pending:
        return None
    return _result(session.turn(TurnSpec(thread=thread.name)).wait())


def branch_turn(
    result: ChatResult,
    position: int | None = None,
    alternative: int | str = 1,
    *,
    session: Session | None = None,
) -> tuple[Turn, BranchPoint]:
    """The turn that continues ``result`` from a branch point (not recorded, tools shown)."""
    session = session or default_session()
    point = branch_point(result, position, alternative)
    spec = TurnSpec(record=False, run_tools=False)
    return Turn(session, spec, request=branch_request(result, point)), point


def _branch(result: ChatResult, point: BranchPoint, outcome: TurnOutcome) -> Branch:
    if outcome.error is not None:
        raise refused(outcome.error)
    assert outcome.result is not None
    return Branch(result, point, outcome.result)


def branch(
    result: ChatResult,
    position: int | None = None,
    alternative: int | str = 1,
    *,
    session: Session | None = None,
) -> Branch:
    """Continue ``result`` from its first ``position`` tokens with another token there.

    ``alternative`` is a rank among the position's alternatives (0 = most
    likely) or a token's text; ``position`` defaults to where the model was
    least sure. Sent as the original request plus the prefix as a final
    assistant message (vLLM's ``continue_final_message``); nothing is recorded.
    """
    turn, point = branch_turn(result, position, alternative, session=session)
    return _branch(result, point, turn.wait())


async def abranch(
    result: ChatResult,
    position: int | None = None,
    alternative: int | str = 1,
    *,
    session: Session | None = None,
) -> Branch:
    """The awaitable :func:`branch` (the panel's, on the kernel's loop)."""
    turn, point = branch_turn(result, position, alternative, session=session)
    return _branch(result, point, await turn.run())


@contextlib.contextmanager
def cassette(
    path: str | os.PathLike[str], mode: str = "auto", *, session: Session | None = None
) -> Iterator[Any]:
    """Record answers into (or replay them from) a cassette file, inside the block.

    ``mode``: ``"auto"`` replays what is recorded and records the rest;
    ``"record"`` sends everything and merges it into the file; ``"replay"``
    never sends (a request with no recording raises :class:`CassetteError`).
    Every face of the session (magics, panel, ``chat()``) uses it meanwhile;
    ``ChatSettings.cassette`` does the same for a whole notebook or course.
    """
    from ._cassette import MODES
    from ._exceptions import CassetteError

    if mode not in MODES:
        raise CassetteError(f"cassette mode {mode!r}: use one of {', '.join(MODES)}")
    session = session or default_session()
    settings = session.settings
    before = (settings.cassette, settings.cassette_mode)
    settings.cassette, settings.cassette_mode = os.fspath(path), mode
    tape = session.cassette
    try:
        yield tape
    finally:
        settings.cassette, settings.cassette_mode = before
        if tape is not None:
            tape.flush()
