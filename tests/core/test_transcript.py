"""The JSON transcript: every message and answer reads back exactly; a bad file says where."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscale_jupyter import ImagePart, Message, Provenance, TextPart, ToolCall
from nscale_jupyter._transcript import FORMAT, VERSION, Answer, Transcript, TranscriptError
from tests.servers.conversation import PNG

text = st.text(max_size=40)
maybe = st.none() | text
parts = st.one_of(
    st.builds(TextPart, text),
    st.builds(ImagePart, st.sampled_from([PNG, "https://example.org/a.png", "x"]), maybe),
)
calls = st.builds(
    ToolCall, maybe, maybe, text, st.integers(0, 9), st.sampled_from(["function", "custom"])
)
messages = st.builds(
    Message,
    st.sampled_from(["system", "user", "assistant", "tool", "developer"]),
    st.none() | text | st.lists(parts, max_size=3).map(tuple),
    tool_calls=st.lists(calls, max_size=3).map(tuple),
    tool_call_id=maybe,
    name=maybe,
    truncated=st.booleans(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
provenances = st.builds(
    Provenance,
    model=maybe,
    options=st.dictionaries(text, json_values, max_size=3),
    request_hash=st.text("0123456789abcdef", min_size=16, max_size=16),
    served_model=maybe,
    usage=st.none() | st.fixed_dictionaries({"total_tokens": st.integers(0, 99)}),
    finish_reason=maybe,
    system_fingerprint=maybe,
    response_id=maybe,
    cassette=st.sampled_from([None, "hit", "miss"]),
    cost=st.none() | st.floats(0, 10, allow_nan=False),
)
answers = st.builds(Answer, maybe, st.none() | provenances).filter(
    lambda a: a.reasoning is not None or a.provenance is not None
)


@st.composite
def transcripts(draw: Any) -> Transcript:
    listed = draw(st.lists(messages, max_size=6))
    positions = st.sampled_from(range(len(listed))) if listed else None
    kept = draw(st.dictionaries(positions, answers, max_size=3)) if positions is not None else {}
    return Transcript(
        thread=draw(text.filter(str.strip)),
        messages=tuple(listed),
        system=draw(maybe),
        answers=kept,
        pending=tuple(draw(st.lists(calls, max_size=2))),
        options=draw(st.dictionaries(text, json_values, max_size=3)),
        usage=draw(st.dictionaries(st.sampled_from(["live", "replayed"]), json_values)),
        exported=draw(maybe),
        version=draw(maybe),
    )


@settings(max_examples=300, deadline=None)
@given(transcripts())
def test_every_transcript_reads_back_exactly(t: Transcript) -> None:
    text = json.dumps(t.to_json(), ensure_ascii=False)
    assert Transcript.from_json(json.loads(text)) == t


def test_a_conversation_reads_back_with_what_the_api_format_drops() -> None:
    """Cut-off marks, a call's index and type, image detail: the API's JSON has no room."""
    call = ToolCall("c1", "add", '{"a": 1}', index=3)
    t = Transcript(
        "lesson",
        (
            Message.user([TextPart("what is this?"), ImagePart(PNG, "low")]),
            Message.assistant(None, [call]),
            Message.tool("c1", "2"),
            Message("assistant", "It is", truncated=True),
        ),
        system="Be brief.",
        answers={3: Answer("hmm", None)},
    )
    data = t.to_json()
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert data["messages"][1]["tool_calls"][0]["index"] == 3
    assert data["messages"][3]["truncated"] is True and data["messages"][3]["reasoning"] == "hmm"
    assert data["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": PNG, "detail": "low"},
    }
    assert Transcript.from_json(json.loads(json.dumps(data))) == t


def good() -> dict[str, Any]:
    return Transcript("t", (Message.user("hi"), Message.assistant("yo"))).to_json()


def broken(change: Any) -> dict[str, Any]:
    data = good()
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "not an nscale-jupyter transcript"),
        ({"format": "something else"}, "not an nscale-jupyter transcript"),
        (broken(lambda d: d.update(version=2)), "version 2: written by a newer"),
        (broken(lambda d: d.update(version=True)), "version: expected a whole number"),
        (broken(lambda d: d.pop("thread")), "thread: missing"),
        (broken(lambda d: d.update(thread=" ")), "thread: empty name"),
        (broken(lambda d: d.update(messages={})), "messages: expected list"),
        (broken(lambda d: d["messages"].append(3)), "messages[2]: expected an object"),
        (broken(lambda d: d["messages"][1].update(role="bot")), "messages[1].role: expected"),
        (broken(lambda d: d["messages"][0].update(content=5)), "messages[0].content: expected"),
        (
            broken(lambda d: d["messages"][0].update(content=[{"type": "audio"}])),
            "messages[0].content[0].type: expected 'text' or 'image_url'",
        ),
        (
            broken(lambda d: d["messages"][1].update(tool_calls=[{"id": "x"}])),
            "messages[1].tool_calls[0].function: missing",
        ),
        (broken(lambda d: d["messages"][1].update(truncated="yes")), "messages[1].truncated"),
        (
            broken(lambda d: d["messages"][1].update(provenance={"cost": "free"})),
            "messages[1].provenance.cost: expected",
        ),
        (broken(lambda d: d.update(pending=[[]])), "pending[0]: expected an object"),
    ],
)
def test_a_bad_file_says_where(data: Any, says: str) -> None:
    with pytest.raises(TranscriptError) as caught:
        Transcript.from_json(data)
    assert says in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_an_older_file_without_optional_fields_reads() -> None:
    data = {"format": FORMAT, "version": 1, "thread": "t", "messages": [{"role": "user"}]}
    t = Transcript.from_json(data)
    assert t.messages == (Message("user"),) and t.system is None and t.pending == ()
