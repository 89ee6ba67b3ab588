"""``export_thread`` and ``import_thread``: a thread to a file and back (``%chat export/import``).

The format comes from the file's suffix: ``.json`` (the exact transcript,
read back by :func:`import_thread`), ``.md``, ``.html`` (one self-contained
page) or ``.ipynb`` (a new notebook of the thread). The key is never written.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

from ._api import default_session
from ._archive import load_transcript, thread_transcript
from ._session import Session
from ._transcript import Transcript, TranscriptError

__all__ = ["SUFFIXES", "export_thread", "file_words", "import_thread"]

SUFFIXES = (".json", ".md", ".html", ".ipynb")
#: A word that names a file: it ends in a suffix (``notes.md``, ``~/out/x.json``).
_FILE = re.compile(r".*[^/.]\.[A-Za-z0-9]{1,8}")


def file_words(words: list[str], *flags: str) -> tuple[str, str | None, tuple[str, ...]] | None:
    """``PATH [--thread NAME] [FLAG...]`` as (path, name, flags); None when the words differ.

    The path must have a suffix (``notes.md``; a wrong one is the export's error to
    name): ``%chat export my notes`` is a prompt.
    """
    if not words or not _FILE.fullmatch(words[0]):
        return None
    name, rest = None, words[1:]
    seen: list[str] = []
    while rest:
        if rest[0] == "--thread" and len(rest) > 1 and not rest[1].startswith("-"):
            name, rest = rest[1], rest[2:]
        elif rest[0] in flags:
            seen, rest = [*seen, rest[0]], rest[1:]
        else:
            return None
    return words[0], name, tuple(seen)


def _render(transcript: Transcript, suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(transcript.to_json(), indent=1, ensure_ascii=False) + "\n"
    from .display._export import transcript_html, transcript_ipynb, transcript_markdown

    if suffix == ".md":
        return transcript_markdown(transcript)
    if suffix == ".html":
        return transcript_html(transcript)
    return json.dumps(transcript_ipynb(transcript), indent=1, ensure_ascii=False) + "\n"


def export_thread(
    path: str | os.PathLike[str], thread: str | None = None, *, session: Session | None = None
) -> Path:
    """Write the named (or current) thread to ``path``, in the format of its suffix.

    TranscriptError for an unknown suffix or thread; returns the path written.
    """
    from . import __version__

    session = session or default_session()
    target = Path(os.path.expanduser(os.fspath(path)))
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise TranscriptError(
            f"{target.name}: export to a file ending in {', '.join(SUFFIXES)} (the format)"
        )
    try:
        transcript = thread_transcript(session, thread)
    except KeyError as exc:
        raise TranscriptError(str(exc.args[0])) from None
    text = session.scrub(_render(replace(transcript, version=__version__), suffix))
    target.write_text(text, encoding="utf-8")
    return target


def read_transcript(path: str | os.PathLike[str]) -> Transcript:
    """A JSON transcript file, checked (TranscriptError names what is wrong; OSError)."""
    target = Path(os.path.expanduser(os.fspath(path)))
    if target.suffix.lower() != ".json":
        raise TranscriptError(
            f"{target.name}: import reads a .json transcript (%chat export X.json)"
        )
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise TranscriptError(f"{target.name}: not JSON ({exc})") from None
    try:
        return Transcript.from_json(data)
    except TranscriptError as exc:
        raise TranscriptError(f"{target.name}: {exc}") from None


def import_thread(
    path: str | os.PathLike[str],
    thread: str | None = None,
    *,
    replace: bool = False,
    session: Session | None = None,
) -> str:
    """Load a JSON transcript as thread ``thread`` (default: the file's); returns its name.

    A thread that already has messages is refused (TranscriptError) unless
    ``replace=True``. The thread gets the file's messages, answers, pending
    calls and system prompt exactly; the session's options stay as they are.
    """
    session = session or default_session()
    loaded = load_transcript(session, read_transcript(path), thread, replace=replace)
    return loaded.name
