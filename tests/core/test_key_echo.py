"""A server that repeats the API key: the client scrubs it out of everything it builds.

A loopback FaultServer echoes the key the client sent (tests/servers/key_echo.py)
in every error shape and in replies; exceptions (str, repr, traceback, body,
partial), events, results, retry notices and log records at DEBUG are scanned.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import traceback
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscale_jupyter import AsyncClient, ChatRequest, Message, NscaleError
from nscale_jupyter._accumulator import StreamAccumulator
from nscale_jupyter._redact import MASK, VISIBLE, KeyRedactor
from tests.servers.fault_server import FaultServer
from tests.servers.key_echo import ERRORS, REPLIES, leaks, respond

from .streams import choice, chunk

KEY = "sk-SENTINEL-echo-9c41d7e2b8"


def request(prompt: str) -> ChatRequest:
    return ChatRequest(
        model="fake", messages=(Message.user(prompt),), stream=prompt != "full", max_tokens=9
    )


def run(srv: FaultServer, prompt: str) -> tuple[list[str], list[Any], Exception | None]:
    """Texts to scan, the events, and the error of one request."""
    notices: list[Any] = []
    events: list[Any] = []
    texts: list[str] = []
    error: Exception | None = None

    async def go() -> None:
        async with AsyncClient(KEY, base_url=srv.base_url, on_retry=notices.append) as client:
            req = request(prompt)
            if req.stream:
                async with client.stream(req) as stream:
                    async for event in stream:
                        events.append(event)
                texts.append(repr(stream.result))
            else:
                texts.append(repr(await client.chat(req)))

    try:
        asyncio.run(go())
    except NscaleError as exc:
        error = exc
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        texts += [repr(vars(exc)), repr(getattr(exc, "partial", None))]
    texts += [repr(e) for e in events] + [repr(n) for n in notices]
    for e in events:  # what a renderer joining the deltas would show
        for field in ("text", "arguments"):
            texts.append("".join(str(getattr(x, field, "")) for x in events if type(x) is type(e)))
    return texts, events, error


@pytest.fixture(scope="module")
def srv() -> Any:
    with FaultServer() as server:
        server.respond = respond
        yield server


@pytest.mark.parametrize("prompt", ERRORS + REPLIES)
def test_the_key_is_scrubbed(
    srv: FaultServer, prompt: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts, _events, error = run(srv, prompt)
    assert srv.requests[-1].headers["authorization"] == f"Bearer {KEY}"  # it was sent
    assert (error is not None) == (prompt in ERRORS), (prompt, error)
    records = [r.getMessage() for r in caplog.records]
    assert any("HTTP Request" in r for r in records) and len(records) > 5
    for text in [*texts, *records, caplog.text]:
        assert KEY not in text and not leaks(KEY, text), (prompt, leaks(KEY, text), text)
    if prompt == "header":  # httpcore's DEBUG record of the response headers
        assert any("x-echo-authorization" in r and MASK in r for r in records)
    else:
        assert any(MASK in t for t in texts), prompt  # scrubbed, not dropped


def test_messages_still_say_what_happened(srv: FaultServer) -> None:
    _, _, error = run(srv, "401")
    assert str(error).startswith(f"401 invalid_request_error: Incorrect API key provided: {MASK}.")
    _, _, error = run(srv, "500")
    assert f"'authorization': 'Bearer {MASK}'" in str(error)
    assert KEY.encode() not in error.body  # type: ignore[union-attr]
    _, _, error = run(srv, "html")
    assert str(error).startswith(f"503 Service Unavailable (Bearer {MASK})")
    _, events, error = run(srv, "instream")
    assert str(error) == f"upstream rejected Bearer {MASK}"
    assert error.partial.text == "Partial answer. "  # type: ignore[union-attr]
    assert error.partial.error == str(error)  # type: ignore[union-attr]
    _texts, events, _ = run(srv, "stream")
    joined = "".join(e.text for e in events if type(e).__name__ == "ContentDelta")
    result = events[-1].result
    assert joined == result.text  # the deltas and the result agree
    assert re.fullmatch(rf"Your key is .*{re.escape(MASK)}, and again: Bearer .*Done\.", joined)
    assert result.reasoning.startswith("thinking about Bearer ")


def test_a_short_key_is_not_masked() -> None:
    assert KeyRedactor.for_key("EMPTY") is None and KeyRedactor.for_key(None) is None
    assert KeyRedactor.for_key(KEY) is not None


def test_redactor_hides_itself() -> None:
    import pickle

    redactor = KeyRedactor(KEY)
    assert KEY not in repr(redactor) and KEY not in repr(redactor.guard())
    with pytest.raises(TypeError):
        pickle.dumps(redactor)


def test_error_text_masks_long_runs_of_the_key() -> None:
    redactor = KeyRedactor(KEY)
    assert redactor.error_text(f"x {KEY[2:20]} y") == f"x {MASK} y"
    assert redactor.error_text(f"Bearer {KEY}{KEY}") == f"Bearer {MASK}{MASK}"
    assert redactor.error_text("nothing here, sk-") == "nothing here, sk-"


def shown_form(expected: str) -> str:
    """A pattern for what a guard shows: each mask may follow up to VISIBLE key characters."""
    lead = "|".join(re.escape(KEY[:i]) for i in range(1, VISIBLE + 1))
    return f"(?:{lead})?{re.escape(MASK)}".join(map(re.escape, expected.split(MASK)))


PIECES = st.sampled_from([KEY, KEY[:1], KEY[:3], KEY[:4], KEY[:12], KEY[3:], KEY[1:], "s", "x "])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=10), st.lists(st.integers(0, 400), max_size=8))
def test_guard_never_lets_the_key_through(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    guard = KeyRedactor(KEY).guard()
    shown = ""
    for piece in pieces:
        shown += guard.feed(piece)
        assert KEY not in shown
    final = shown + guard.pending()
    assert KEY not in final
    expected = text.replace(KEY, MASK)
    held = next((i for i in range(len(expected)) if KEY.startswith(expected[i:])), None)
    if held is not None and len(expected) - held > VISIBLE:  # a start of the key at the end
        expected = expected[:held] + MASK
    assert re.fullmatch(shown_form(expected), final), (final, expected)


def test_accumulator_guards_each_text_of_each_choice() -> None:
    acc = StreamAccumulator(KeyRedactor(KEY))
    events = []
    for a, b in ((0, 5), (5, 14), (14, len(KEY))):
        events += acc.feed(chunk(choice(0, content=KEY[a:b]), choice(1, reasoning=KEY[a:b])))
        call = {"index": 0, "function": {"arguments": KEY[a:b]}}
        events += acc.feed(chunk(choice(0, tool_calls=[call])))
    texts = [repr(events), repr(acc.result())]
    assert all(KEY not in t and not leaks(KEY, t, VISIBLE + 1) for t in texts)
    result = acc.result()
    assert result.choices[0].content == KEY[:VISIBLE] + MASK
    assert result.choices[1].reasoning == KEY[:VISIBLE] + MASK
    assert result.choices[0].tool_calls[0].arguments == KEY[:VISIBLE] + MASK
