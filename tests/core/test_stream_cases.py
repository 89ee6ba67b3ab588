"""Every stream edge case of wire-format §8, replayed through the real client."""

from __future__ import annotations

import json

import pytest

from nscale_jupyter import (
    ChoiceFinished,
    ContentDelta,
    LogprobsDelta,
    ReasoningDelta,
    ToolCallDelta,
    UsageUpdate,
)

from .helpers import of_type, run_full, run_stream
from .streams import USAGE, choice, chunk, role, sse, text_chunks


# 1. empty deltas
def test_empty_deltas_change_nothing() -> None:
    chunks = [
        chunk(role()),
        chunk(choice(content="Hi")),
        chunk(choice()),  # {}
        chunk(choice(logprobs={"content": []})),
        chunk(choice(finish_reason="stop", stop_reason=None)),
    ]
    result, events = run_stream(sse(chunks))
    assert result.text == "Hi"
    assert [e.text for e in of_type(events, ContentDelta)] == ["Hi"]
    assert result.finish_reason == "stop"
    assert not result.truncated


# 2. content null / "" with tool calls; tool_calls [] vs missing
@pytest.mark.parametrize("content", [None, ""])
def test_tool_calls_with_null_or_empty_content(content: str | None) -> None:
    call = {
        "id": "chatcmpl-tool-1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    result = run_full(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "tool_calls": [call]},
                    "finish_reason": "tool_calls",
                }
            ],
        }
    )
    assert result.content is None and result.text == ""
    assert result.tool_calls[0].args == {"city": "Paris"}


@pytest.mark.parametrize("tool_calls", ["absent", None, []])
def test_no_tool_calls_in_any_shape(tool_calls: object) -> None:
    message: dict[str, object] = {"role": "assistant", "content": "ok"}
    if tool_calls != "absent":
        message["tool_calls"] = tool_calls
    result = run_full({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
    assert result.tool_calls == ()
    assert result.text == "ok"


# 3. reasoning in every era
@pytest.mark.parametrize("era", ["reasoning_content", "reasoning", "both"])
def test_reasoning_only_stream_in_each_era(era: str) -> None:
    def delta(text: str) -> dict[str, str]:
        if era == "both":
            return {"reasoning": text, "reasoning_content": text}
        return {era: text}

    chunks = [
        chunk(role()),
        chunk(choice(**delta("Let me "))),
        chunk(choice(**delta("think."))),
        chunk(choice(finish_reason="length", stop_reason=None)),
    ]
    result, events = run_stream(sse(chunks))
    assert result.reasoning == "Let me think."  # never doubled
    assert result.content is None
    assert "".join(e.text for e in of_type(events, ReasoningDelta)) == "Let me think."


def test_reasoning_content_null_on_content_deltas() -> None:
    chunks = [
        chunk(role()),
        chunk(choice(reasoning="r", reasoning_content="r")),
        chunk(choice(content="answer", reasoning_content=None, reasoning=None)),
        chunk(choice(finish_reason="stop")),
    ]
    result, _ = run_stream(sse(chunks))
    assert (result.reasoning, result.text) == ("r", "answer")


@pytest.mark.parametrize("key", ["reasoning", "reasoning_content"])
def test_full_response_reasoning_either_key(key: str) -> None:
    result = run_full(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "A", key: "R"},
                    "finish_reason": "stop",
                }
            ]
        }
    )
    assert (result.reasoning, result.text) == ("R", "A")


def test_full_response_both_keys_not_doubled() -> None:
    result = run_full(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "A",
                        "reasoning": "R",
                        "reasoning_content": "R",
                    },
                    "finish_reason": "stop",
                }
            ]
        }
    )
    assert result.reasoning == "R"


# 4. reasoning and content in one delta; raw <think> without a parser
def test_delta_with_reasoning_and_content() -> None:
    chunks = [
        chunk(role()),
        chunk(choice(reasoning_content="Think briefly")),
        chunk(choice(reasoning_content=".", content="\n\nHello")),
        chunk(choice(content="!")),
        chunk(choice(finish_reason="stop", content="")),
    ]
    result, events = run_stream(sse(chunks))
    assert result.reasoning == "Think briefly."
    assert result.text == "\n\nHello!"
    kinds = [type(e).__name__ for e in events if isinstance(e, ReasoningDelta | ContentDelta)]
    assert kinds == ["ReasoningDelta", "ReasoningDelta", "ContentDelta", "ContentDelta"]


def test_raw_think_text_stays_in_content() -> None:
    result, _ = run_stream(sse(text_chunks(["<think>", "hmm</think>", "Hi"])))
    assert result.text == "<think>hmm</think>Hi"
    assert result.reasoning is None


# 5. multibyte text and lossy logprob tokens
def test_emoji_and_cjk_split_across_deltas() -> None:
    result, _ = run_stream(sse(text_chunks(["日本", "語 ", "😀", "!"])))
    assert result.text == "日本語 😀!"


def test_lossy_logprob_tokens_are_kept_as_sent() -> None:
    entries = [
        {"token": "", "logprob": -0.1, "bytes": [], "top_logprobs": []},
        {"token": "\ufffd", "logprob": -0.2, "bytes": [239, 191, 189], "top_logprobs": []},
        {"token": "æĺ¯", "logprob": -0.3, "bytes": None, "top_logprobs": []},
        {"token": "<|im_end|>", "logprob": 0.0, "bytes": [60], "top_logprobs": []},
    ]
    chunks = [
        chunk(role()),
        chunk(choice(content="是", logprobs={"content": entries[:3]})),
        chunk(choice(finish_reason="stop", logprobs={"content": entries[3:]})),
    ]
    result, events = run_stream(sse(chunks))
    assert result.text == "是"
    assert [t.token for t in result.logprobs or ()] == ["", "\ufffd", "æĺ¯", "<|im_end|>"]
    assert result.logprobs is not None and result.logprobs[0].bytes == ()
    assert result.logprobs[2].bytes is None
    assert sum(len(e.tokens) for e in of_type(events, LogprobsDelta)) == 4


# 6 and 7. network reads splitting characters and CRLF; U+2028 and friends
@pytest.mark.parametrize("every", [1, 2, 3, 5, 7, 64])
def test_reads_split_anywhere_crlf(every: int) -> None:
    body = sse(text_chunks(["héllo ", "wörld ", "😀"]), newline=b"\r\n")
    result, _ = run_stream(body, every=every)
    assert result.text == "héllo wörld 😀"
    assert not result.truncated


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085"])
def test_line_separator_characters_in_content(char: str) -> None:
    result, _ = run_stream(sse(text_chunks([f"a{char}b", "c"])), every=4)
    assert result.text == f"a{char}bc"


# 8. stop strings and stop_reason
def test_stop_string_reason() -> None:
    chunks = [
        chunk(role()),
        chunk(choice(content="1, 2, 3")),
        chunk(choice(finish_reason="stop", stop_reason=", 4", content="")),
    ]
    result, events = run_stream(sse(chunks))
    assert (result.finish_reason, result.stop_reason) == ("stop", ", 4")
    assert of_type(events, ChoiceFinished) == [ChoiceFinished(0, "stop", ", 4")]


def test_stop_reason_int_token_id() -> None:
    chunks = [
        chunk(role()),
        chunk(choice(content="x")),
        chunk(choice(finish_reason="stop", stop_reason=151645)),
    ]
    result, _ = run_stream(sse(chunks))
    assert result.stop_reason == 151645


# 9. finish_reason length: in content, in reasoning, inside tool arguments
def test_length_inside_tool_arguments_keeps_raw_text() -> None:
    chunks = [
        chunk(role()),
        chunk(
            choice(
                tool_calls=[
                    {
                        "id": "t1",
                        "type": "function",
                        "index": 0,
                        "function": {"name": "get_weather"},
                    }
                ]
            )
        ),
        chunk(
            choice(
                tool_calls=[{"index": 0, "function": {"arguments": '{"city": "Pa'}}],
                finish_reason="length",
            )
        ),
    ]
    result, _ = run_stream(sse(chunks))
    call = result.tool_calls[0]
    assert call.arguments == '{"city": "Pa'
    assert call.args is None and not call.arguments_valid
    assert result.finish_reason == "length"


def test_length_in_content() -> None:
    result, _ = run_stream(sse(text_chunks(["Once upon"], finish="length")))
    assert (result.text, result.finish_reason) == ("Once upon", "length")


# 10. n = 3 interleaved; a multi-choice chunk
def test_three_choices_interleaved_finishing_apart() -> None:
    chunks = [
        chunk(role(0)),
        chunk(role(1)),
        chunk(role(2)),
        chunk(choice(1, content="b1")),
        chunk(choice(0, content="a1")),
        chunk(choice(2, content="c1")),
        chunk(choice(1, finish_reason="stop")),
        chunk(choice(0, content="a2")),
        chunk(choice(2, finish_reason="length")),
        chunk(choice(0, finish_reason="stop")),
        chunk(usage=USAGE),
    ]
    result, _ = run_stream(sse(chunks))
    assert [c.text for c in result.choices] == ["a1a2", "b1", "c1"]
    assert [c.finish_reason for c in result.choices] == ["stop", "stop", "length"]
    assert [c.index for c in result.choices] == [0, 1, 2]


def test_chunk_with_several_choices() -> None:
    chunks = [
        chunk(choice(0, content="x"), choice(1, content="y")),
        chunk(choice(0, finish_reason="stop"), choice(1, finish_reason="stop")),
    ]
    result, _ = run_stream(sse(chunks))
    assert [c.text for c in result.choices] == ["x", "y"]


# 11. usage: final chunk, absent, null, continuous
def test_usage_only_final_chunk() -> None:
    result, events = run_stream(sse(text_chunks(["a"])))
    assert result.usage is not None and result.usage.total_tokens == 20
    assert len(of_type(events, UsageUpdate)) == 1


def test_usage_absent_and_null() -> None:
    chunks = [chunk(role(), usage=None), chunk(choice(content="a", finish_reason="stop"))]
    chunks[0]["usage"] = None
    result, _ = run_stream(sse(chunks))
    assert result.usage is None


def test_continuous_usage_last_wins() -> None:
    chunks = [
        chunk(
            choice(content="a"),
            usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        ),
        chunk(
            choice(content="b", finish_reason="stop"),
            usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        ),
        chunk(
            usage={
                "prompt_tokens": 3,
                "completion_tokens": 2,
                "total_tokens": 5,
                "completion_tokens_details": {"reasoning_tokens": 0},
            }
        ),
    ]
    result, events = run_stream(sse(chunks))
    assert result.usage is not None and result.usage.completion_tokens == 2
    assert result.usage.reasoning_tokens == 0
    assert len(of_type(events, UsageUpdate)) == 3


# 12. stream ends without [DONE]
def test_clean_eof_without_done_is_truncated() -> None:
    result, _ = run_stream(sse(text_chunks(["partial"])[:2], done=False))
    assert result.text == "partial"
    assert result.truncated
    assert result.finish_reason is None  # never claimed


# 13. keepalives, event/id/retry lines, multi-line data, CR endings, no final blank line
def test_proxy_framing() -> None:
    body = (
        b": ping\r\n\r\nevent: message\rid: 1\rretry: 100\r"
        + b'data: {"choices": [{"index": 0,\r'
        + b'data: "delta": {"content": "hi"}}]}\r\r'
        + b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
        + b"data: [DONE]\n"
    )
    result, _ = run_stream(body, every=3)
    assert result.text == "hi"
    assert not result.truncated


# 17. tool calls: two by index, name-first pieces, late id, flush in finishing chunk, no-arg
def test_two_tool_calls_with_late_id_and_flush() -> None:
    chunks = [
        chunk(role()),
        chunk(choice(content="Let me check. ")),
        chunk(
            choice(
                tool_calls=[{"type": "function", "index": 0, "function": {"name": "get_weather"}}]
            )
        ),
        chunk(
            choice(
                tool_calls=[
                    {
                        "index": 0,
                        "id": "chatcmpl-tool-ab12",
                        "function": {"arguments": '{"city": "'},
                    }
                ]
            )
        ),
        chunk(
            choice(tool_calls=[{"index": 0, "function": {"arguments": 'Paris"}', "name": None}}])
        ),
        chunk(
            choice(
                tool_calls=[
                    {
                        "id": "chatcmpl-tool-cd34",
                        "type": "function",
                        "index": 1,
                        "function": {"name": "get_time", "arguments": ""},
                    }
                ]
            )
        ),
        chunk(
            choice(
                tool_calls=[{"index": 1, "function": {"arguments": "{}"}}],
                finish_reason="tool_calls",
                stop_reason=None,
            )
        ),
    ]
    result, events = run_stream(sse(chunks))
    a, b = result.tool_calls
    assert (a.id, a.name, a.args) == ("chatcmpl-tool-ab12", "get_weather", {"city": "Paris"})
    assert (b.id, b.name, b.arguments, b.args) == ("chatcmpl-tool-cd34", "get_time", "{}", {})
    assert result.text == "Let me check. "
    pieces = of_type(events, ToolCallDelta)
    assert [p.tool_index for p in pieces] == [0, 0, 0, 1, 1]
    assert "".join(p.arguments for p in pieces if p.tool_index == 0) == '{"city": "Paris"}'


def test_no_arg_tool_with_empty_arguments() -> None:
    chunks = [
        chunk(
            choice(
                tool_calls=[
                    {"id": "t", "index": 0, "type": "function", "function": {"name": "now"}}
                ],
                finish_reason="tool_calls",
            )
        )
    ]
    result, _ = run_stream(sse(chunks))
    assert result.tool_calls[0].arguments == "" and result.tool_calls[0].args == {}


def test_tool_call_without_index_new_id_starts_new_call() -> None:
    chunks = [
        chunk(choice(tool_calls=[{"id": "a", "function": {"name": "f", "arguments": "{}"}}])),
        chunk(choice(tool_calls=[{"id": "b", "function": {"name": "g", "arguments": "{"}}])),
        chunk(choice(tool_calls=[{"function": {"arguments": "}"}}], finish_reason="stop")),
    ]
    result, _ = run_stream(sse(chunks))
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("a", "f", "{}"),
        ("b", "g", "{}"),
    ]


# 18. -9999.0, empty top_logprobs, null bytes
def test_logprob_sentinels() -> None:
    entry = {
        "token": "x",
        "logprob": -9999.0,
        "bytes": None,
        "top_logprobs": [{"token": "y", "logprob": -9999.0, "bytes": None}],
    }
    empty = {"token": "z", "logprob": -0.5, "bytes": [122], "top_logprobs": []}
    chunks = [
        chunk(choice(content="xz", logprobs={"content": [entry, empty]}, finish_reason="stop"))
    ]
    result, _ = run_stream(sse(chunks))
    first, second = result.logprobs or ()
    assert first.prob == 0.0 and first.top_logprobs[0].prob == 0.0
    assert second.top_logprobs == () and second.bytes == (122,)


# 19. unknown fields everywhere
def test_unknown_fields_are_ignored() -> None:
    c = chunk(
        choice(content="ok", finish_reason="stop", token_ids=[1, 2]),
        metrics={"x": 1},
        prompt_text="p",
        routed_experts=None,
        system_fingerprint="fp",
    )
    c["choices"][0]["token_ids"] = [1]
    c["choices"][0]["delta"]["annotations"] = None
    result, _ = run_stream(sse([c]))
    assert result.text == "ok"
    assert result.system_fingerprint == "fp"


def test_result_keeps_response_fields() -> None:
    response = {
        "id": "chatcmpl-7",
        "object": "chat.completion",
        "created": 99,
        "model": "mm",
        "system_fingerprint": None,
        "prompt_logprobs": [None, {"5": {"logprob": -1.0}}],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "A"},
                "finish_reason": "stop",
                "stop_reason": None,
            }
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 1,
            "total_tokens": 2,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }
    result = run_full(response)
    assert (result.id, result.created, result.model) == ("chatcmpl-7", 99, "mm")
    assert result.prompt_logprobs is not None
    assert result.prompt_logprobs.raw == [None, {"5": {"logprob": -1.0}}]  # type: ignore[attr-defined]
    assert [p.logprob for p in result.prompt_logprobs] == [None, -1.0]
    assert result.usage is not None and result.usage.prompt_tokens_details == {"cached_tokens": 0}
    assert result.raw == response


def test_stream_and_full_give_equal_results() -> None:
    call = {"id": "t1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    lp = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}
    full = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1735689600,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hi",
                    "reasoning": "R",
                    "tool_calls": [call],
                },
                "logprobs": {"content": [lp]},
                "finish_reason": "tool_calls",
                "stop_reason": None,
            }
        ],
        "usage": USAGE,
    }
    chunks = [
        chunk(role()),
        chunk(choice(reasoning="R")),
        chunk(choice(content="Hi", logprobs={"content": [lp]})),
        chunk(
            choice(tool_calls=[{**call, "index": 0}], finish_reason="tool_calls", stop_reason=None)
        ),
        chunk(usage=USAGE),
    ]
    streamed, _ = run_stream(sse(chunks))
    assert streamed == run_full(full)
    assert json.loads(json.dumps(streamed.raw[0])) == chunks[0]
