"""``chat()`` and ``achat()``: the Python API, for scripts, tests and other tools."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._options import OptionError, option
from ._session import Session
from ._types import ChatRequest, ChatResult, Message

__all__ = ["achat", "chat", "default_session"]

_default: Session | None = None


def default_session() -> Session:
    """The session ``chat()`` uses (the magics share it once loaded)."""
    global _default
    if _default is None:
        _default = Session()
    return _default


def set_default_session(session: Session | None) -> None:
    global _default
    _default = session


def _prepare(
    prompt: str | Message | Sequence[Message | Mapping[str, Any]],
    thread: str | None,
    options: dict[str, Any],
    session: Session | None,
) -> tuple[Session, list[Message], list[Message], ChatRequest]:
    session = session or default_session()
    overrides: dict[str, Any] = {}
    extra = dict(options.pop("extra", None) or {})
    for name, value in options.items():
        if name in ("stream", "include_usage"):
            overrides[name] = value
            continue
        opt = option(name)
        overrides[opt.name] = opt.validate(value)
    overrides["extra"] = extra
    if isinstance(prompt, str):
        turn = [Message.user(prompt)]
    elif isinstance(prompt, Message):
        turn = [prompt]
    else:
        turn = [m if isinstance(m, Message) else Message.from_json(m) for m in prompt]
    if not turn:
        raise OptionError("chat(): nothing to send")
    history = session.thread(thread).history() if thread is not None else []
    request = session.build_request([*history, *turn], overrides)
    return session, turn, history, request


def chat(
    prompt: str | Message | Sequence[Message | Mapping[str, Any]],
    *,
    thread: str | None = None,
    session: Session | None = None,
    **options: Any,
) -> ChatResult:
    """Send a prompt (or messages) and return the result.

    ``options`` are the request options of the option table
    (``temperature=0``, ``max_tokens=50``, ``extra={"top_k": 5}``...).
    With ``thread=NAME`` the turn continues and extends that thread.
    """
    session, turn, _, request = _prepare(prompt, thread, options, session)
    result = session.run(request)
    if thread is not None:
        session.thread(thread).record([*turn, result.choice.to_message()])
    return result


async def achat(
    prompt: str | Message | Sequence[Message | Mapping[str, Any]],
    *,
    thread: str | None = None,
    session: Session | None = None,
    **options: Any,
) -> ChatResult:
    """The awaitable ``chat()``: ``result = await achat("hi")`` in a notebook cell."""
    await (session or default_session()).aload_models()  # so preparing does not block
    session, turn, _, request = _prepare(prompt, thread, options, session)
    result = await session.arun(request)
    if thread is not None:
        session.thread(thread).record([*turn, result.choice.to_message()])
    return result
