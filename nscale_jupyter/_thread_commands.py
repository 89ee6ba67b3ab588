"""``%chat`` subcommands for threads: new, thread, threads, system, undo, history,
export and import. They register with ``_subcommands`` (which imports this module).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ._exceptions import NscaleError
from ._export import export_thread, file_words, import_thread
from ._subcommands import no_words, one_word, optional_word, subcommand

if TYPE_CHECKING:
    from ._magics import ChatMagics

__all__: list[str] = []


@subcommand("new", optional_word, "%chat new [THREAD]")
def _new(m: ChatMagics, rest: str) -> None:
    """start the current (or named) thread afresh (its system prompt stays)."""
    name = rest or None
    m.session.new_thread(name)
    if name:
        m.session.current = name
    print(f"new thread: {m.session.current}")


@subcommand("thread", one_word, "%chat thread NAME")
def _thread(m: ChatMagics, rest: str) -> None:
    """switch the current thread."""
    m.session.current = shlex.split(rest)[0]
    m.session.thread()
    print(f"current thread: {m.session.current}")


@subcommand("threads", no_words, "%chat threads")
def _threads(m: ChatMagics, rest: str) -> None:
    """list threads."""
    for name, thread in m.session.threads.items():
        mark = "*" if name == m.session.current else " "
        waiting = f", {len(thread.pending)} tool call(s) waiting" if thread.pending else ""
        print(f"{mark} {name}: {len(thread.messages)} messages{waiting}")


@subcommand("system", optional_word, '%chat system "TEXT"')
def _system(m: ChatMagics, rest: str) -> None:
    """the current thread's system prompt ("" for none; quote text with spaces)."""
    words = shlex.split(rest)
    m.session.thread().system = words[0] if words else ""


@subcommand("undo", no_words, "%chat undo")
def _undo(m: ChatMagics, rest: str) -> None:
    """drop the last turn of the current thread."""
    thread = m.session.thread()
    messages = thread.messages
    while messages and messages[-1].role != "user":
        messages.pop()
    if messages:
        messages.pop()
    thread.pending, thread.resume = (), None


@subcommand("history", optional_word, "%chat history [THREAD]")
def _history(m: ChatMagics, rest: str) -> None:
    """the thread as a transcript."""
    from IPython.display import display

    from .display._transcript import transcript_bundle

    thread = m.session.thread(rest or None)
    display(transcript_bundle(thread.name, m.session.history(thread)), raw=True)


@subcommand("export", lambda w: file_words(w) is not None, "%chat export PATH [--thread NAME]")
def _export(m: ChatMagics, rest: str) -> None:
    """write the thread to PATH: .md, .html, .json (exact, for import) or .ipynb."""
    path, name, _ = file_words(shlex.split(rest)) or ("", None, ())
    try:
        written = export_thread(path, name, session=m.session)
    except (NscaleError, OSError) as exc:
        raise UsageError(f"%chat export: {exc}") from None
    print(f"thread {name or m.session.current} written to {written}")


@subcommand(
    "import",
    lambda w: file_words(w, "--replace") is not None,
    "%chat import PATH.json [--thread NAME] [--replace]",
)
def _import(m: ChatMagics, rest: str) -> None:
    """load a .json transcript as a thread (--replace: over one that has messages)."""
    path, name, flags = file_words(shlex.split(rest), "--replace") or ("", None, ())
    try:
        loaded = import_thread(path, name, replace="--replace" in flags, session=m.session)
    except (NscaleError, OSError) as exc:
        raise UsageError(f"%chat import: {exc}") from None
    m.session.current = loaded
    count = len(m.session.thread(loaded).messages)
    print(f"imported thread {loaded} ({count} messages); it is the current thread")
