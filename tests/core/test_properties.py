"""Property tests: re-chunking never changes the result (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import run_stream
from .streams import choice, chunk, role, sse

TEXT = ["Hé", "llo ", "😀", "日本", "\u2028", "wörld", "\r\n", "!"]
CALL = [
    {"id": "chatcmpl-tool-1", "type": "function", "index": 0, "function": {"name": "get_weather"}}
]
CHUNKS = (
    [chunk(role()), chunk(choice(reasoning="Thinking… ✓"))]
    + [chunk(choice(content=t)) for t in TEXT]
    + [
        chunk(choice(tool_calls=CALL)),
        chunk(
            choice(
                tool_calls=[{"index": 0, "function": {"arguments": '{"city": "Zürich"}'}}],
                finish_reason="tool_calls",
                stop_reason=None,
            )
        ),
        chunk(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    ]
)
BODIES = [sse(CHUNKS), sse(CHUNKS, newline=b"\r\n"), sse(CHUNKS, newline=b"\r")]
EXPECTED, _ = run_stream(BODIES[0])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, 2), cuts=st.lists(st.integers(1, 10_000), max_size=40))
def test_any_rechunking_gives_the_same_result(which: int, cuts: list[int]) -> None:
    # Cuts land anywhere: inside multibyte characters, between "\r" and "\n".
    body = BODIES[which]
    pieces, last = [], 0
    for cut in sorted({c % len(body) for c in cuts} - {0}):
        pieces.append(body[last:cut])
        last = cut
    pieces.append(body[last:])
    result, _ = run_stream(body, pieces=pieces)
    assert result == EXPECTED


def test_cuts_inside_every_multibyte_character_and_crlf() -> None:
    body = BODIES[1]
    cuts = [
        i
        for i in range(1, len(body))
        if (body[i] & 0xC0) == 0x80 or body[i - 1 : i + 1] == b"\r\n"
    ]
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    result, _ = run_stream(body, pieces=pieces)
    assert result == EXPECTED


@settings(max_examples=60, deadline=None)
@given(which=st.integers(0, 2), every=st.integers(1, 97))
def test_fixed_size_reads_through_the_client(which: int, every: int) -> None:
    result, _ = run_stream(BODIES[which], every=every)
    assert result == EXPECTED
    assert result.text == "".join(TEXT)
    assert result.tool_calls[0].args == {"city": "Zürich"}
    assert result.reasoning == "Thinking… ✓"
