"""Threads out and back, and the teacher's log: the session side of transcripts.

- :func:`thread_transcript`: a thread as a :class:`~._transcript.Transcript`
  (the system prompt it sends, its messages and answers, pending calls, the
  session's options, the thread's usage).
- :func:`load_transcript`: a transcript into a thread of the session (a
  thread that already has messages is refused unless ``replace=True``).
- :func:`log_turn`: one JSON line per turn into ``ChatSettings.log_path``,
  called by the turn engine for every turn it records (every face: the
  magics, ``chat()``/``achat()``, tool answers) and by ``Session.keep`` (the
  panel's kept runs). Batch, grid, compare and branch rows are not logged:
  they record nothing into a thread (a batch has its own checkpoint file).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING

from ._transcript import Answer, Transcript, TranscriptError, log_record, now

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._results import ChatResult
    from ._session import Session
    from ._thread import Thread
    from ._turn_events import TurnOutcome
    from ._types import Message

__all__ = ["answers_of", "load_transcript", "log_turn", "thread_transcript"]

#: Turns end on the session loop, a kept one on the caller's thread: one line at a time.
_WRITING = threading.Lock()


def answers_of(outcome: TurnOutcome) -> dict[int, Answer]:
    """The answers of a turn, by position in ``outcome.added``.

    Its assistant messages are the rounds' answers in order, then the cut-off
    partial (``outcome.result``) when one was kept.
    """
    results: list[ChatResult | None] = list(outcome.rounds)
    if outcome.cut_off is not None:
        results.append(outcome.result)
    out: dict[int, Answer] = {}
    replies = (i for i, m in enumerate(outcome.added) if m.role == "assistant")
    for position, result in zip(replies, results, strict=False):
        if result is not None and (result.reasoning is not None or result.provenance is not None):
            out[position] = Answer(result.reasoning, result.provenance)
    return out


def thread_transcript(session: Session, name: str | None = None) -> Transcript:
    """The named (or current) thread as a transcript; KeyError for a thread never used."""
    name = name or session.current
    thread = session.threads.get(name)
    if thread is None:
        known = ", ".join(session.threads) or "none"
        raise KeyError(f"no thread named {name!r} (threads: {known})")
    usage = {
        source: asdict(tally)
        for (owner, source), tally in sorted(session.meter.tallies.items())
        if owner == name
    }
    n = len(thread.messages)
    return Transcript(
        thread=name,
        messages=tuple(thread.messages),
        system=session.system_prompt(thread),
        answers={i: a for i, a in sorted(thread.answers.items()) if i < n},
        pending=thread.pending,
        options=json.loads(json.dumps(session.settings.request_options(), default=str)),
        usage=usage,
        exported=now(),
    )


def load_transcript(
    session: Session, transcript: Transcript, name: str | None = None, *, replace: bool = False
) -> Thread:
    """The transcript as thread ``name`` (default: its own name), exactly as it was.

    The thread sends the transcript's system prompt (or none), whatever the
    session's default; the request to go on with after pending calls is made
    from the session's settings. The session's options are left as they are.
    """
    name = name or transcript.thread
    existing = session.threads.get(name)
    if existing is not None and (existing.messages or existing.pending) and not replace:
        raise TranscriptError(
            f"thread {name!r} already has {len(existing.messages)} messages: "
            "import into another thread (--thread NAME) or replace it (--replace)"
        )
    thread = session.thread(name)
    thread.clear()
    thread.system = transcript.system if transcript.system is not None else ""
    thread.messages.extend(transcript.messages)
    thread.answers.update(transcript.answers)
    thread.pending = transcript.pending
    return thread


def log_turn(
    session: Session, outcome: TurnOutcome, prompt: Sequence[Message] = (), *, kept: bool = False
) -> str | None:
    """Append the turn to ``ChatSettings.log_path`` (if set); the problem, if it failed."""
    path = session.settings.log_path
    if not path:
        return None
    thread = session.threads.get(outcome.thread) if outcome.thread is not None else None
    usage = [r.usage for r in outcome.rounds if r.usage is not None]
    if outcome.cut_off is not None and outcome.result is not None and outcome.result.usage:
        usage.append(outcome.result.usage)
    total = (
        {
            "prompt_tokens": sum(u.prompt_tokens or 0 for u in usage),
            "completion_tokens": sum(u.completion_tokens or 0 for u in usage),
            "total_tokens": sum(u.total_tokens or 0 for u in usage),
        }
        if usage
        else None
    )
    answered: list[Message] = []  # a turn going on after calls answered by hand: the answers
    for message in reversed(outcome.base if not prompt else ()):
        if message.role != "tool":
            break
        answered.insert(0, message)
    sent = outcome.rounds[0].request if outcome.rounds else None
    system = (
        next((m.text for m in sent.messages if m.role == "system"), None)
        if sent is not None
        else session.system_prompt(thread)
    )
    record = log_record(
        thread=outcome.thread,
        system=system,
        messages=outcome.added or tuple(prompt),
        answers=answers_of(outcome) if outcome.added else {},
        usage=total,
        kept=kept,
        cut_off=outcome.cut_off,
        answered=answered,
    )
    line = session.scrub(json.dumps(record, ensure_ascii=False, default=str))
    try:
        with _WRITING, open(os.path.expanduser(path), "a", encoding="utf-8") as log:
            log.write(line + "\n")
    except OSError as exc:
        return f"log_path: could not write {path!r}: {exc.strerror or exc}"
    return None
