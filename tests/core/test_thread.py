"""A thread: messages recorded turn by turn, answers kept by position, cleared afresh."""

from __future__ import annotations

from nscale_jupyter._thread import Thread
from nscale_jupyter._transcript import Answer
from nscale_jupyter._types import ChatRequest, Message, ToolCall


def test_answers_are_kept_by_their_position_in_the_thread() -> None:
    thread = Thread("t")
    thread.record([Message.user("a"), Message.assistant("A")], {1: Answer("why A")})
    thread.record([Message.user("b"), Message.assistant("B")], {1: Answer("why B")})
    assert [m.text for m in thread.messages] == ["a", "A", "b", "B"]
    assert thread.answers == {1: Answer("why A"), 3: Answer("why B")}


def test_answers_past_the_end_are_dropped_when_a_turn_replaces_them() -> None:
    thread = Thread("t")
    thread.record([Message.user("a"), Message.assistant("A")], {1: Answer("old")})
    del thread.messages[1:]  # an undo or a kept rerun
    thread.record([Message.assistant("A2")])
    assert thread.answers == {}


def test_clear_forgets_messages_answers_and_pending_calls_but_not_the_system() -> None:
    thread = Thread("t", system="Be brief.")
    thread.record([Message.user("a")], {0: Answer()})
    thread.pending = (ToolCall(id="c1", name="f", arguments="{}"),)
    thread.resume = ChatRequest(model="m", messages=(Message.user("a"),))
    thread.clear()
    assert (thread.messages, thread.answers, thread.pending, thread.resume) == ([], {}, (), None)
    assert thread.system == "Be brief."
