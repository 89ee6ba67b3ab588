"""Request bodies: exactly the JSON of wire-format §2, unset fields omitted (§8 item 20)."""

from __future__ import annotations

import pytest

from nscale_jupyter import ChatRequest, ImagePart, Message, TextPart, ToolCall
from nscale_jupyter._options import OPTIONS, OptionError, check_combination, option, parse_option

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}


def body(**fields: object) -> dict[str, object]:
    return ChatRequest(model="m", messages=(Message.user("hi"),), **fields).to_json()  # type: ignore[arg-type]


def test_minimal_body() -> None:
    assert body() == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_zero_values_are_sent() -> None:
    b = body(temperature=0.0, presence_penalty=0.0, seed=0, top_logprobs=0, logprobs=False)
    assert b["temperature"] == 0.0 and b["seed"] == 0 and b["logprobs"] is False
    assert b["top_logprobs"] == 0 and b["presence_penalty"] == 0.0


def test_no_stream_options_without_stream() -> None:
    assert "stream_options" not in body(include_usage=True)
    assert "stream" not in body(include_usage=True)


def test_stream_options_explicit_booleans() -> None:
    assert body(stream=True, include_usage=True)["stream_options"] == {"include_usage": True}
    assert body(stream=True, include_usage=False)["stream_options"] == {"include_usage": False}
    assert body(stream=True, continuous_usage_stats=True)["stream_options"] == {
        "include_usage": False,
        "continuous_usage_stats": True,
    }
    assert "stream_options" not in body(stream=True)


def test_tool_choice_only_with_tools() -> None:
    assert "tool_choice" not in body(tool_choice="auto")
    assert body(tool_choice="none")["tool_choice"] == "none"
    b = body(tools=(TOOL,), tool_choice="required")
    assert b["tools"] == [TOOL] and b["tool_choice"] == "required"


def test_no_empty_tools_list() -> None:
    assert "tools" not in body(tools=())


def test_top_logprobs_brings_logprobs() -> None:
    assert body(top_logprobs=5)["logprobs"] is True


def test_both_max_tokens_sent() -> None:
    b = body(max_tokens=10, max_completion_tokens=20)
    assert (b["max_tokens"], b["max_completion_tokens"]) == (10, 20)


def test_stop_list_and_string() -> None:
    assert body(stop="x")["stop"] == "x"
    assert body(stop=("a", "b"))["stop"] == ["a", "b"]


def test_logit_bias_keys_are_strings_and_extras_top_level() -> None:
    b = body(logit_bias={42: -100.0}, extra={"top_k": 5, "chat_template_kwargs": {"x": 1}})
    assert b["logit_bias"] == {"42": -100.0}
    assert b["top_k"] == 5 and b["chat_template_kwargs"] == {"x": 1}


def test_extra_cannot_override_a_field() -> None:
    assert body(temperature=0.5, extra={"temperature": 2})["temperature"] == 0.5


def test_every_message_shape() -> None:
    call = ToolCall("chatcmpl-tool-1", "get_weather", '{"city": "Paris"}')
    messages = (
        Message.system("be terse"),
        Message.user([TextPart("what is this?"), ImagePart("data:image/png;base64,AA", "auto")]),
        Message.assistant(None, [call]),
        Message.tool("chatcmpl-tool-1", '{"temp_c": 18}'),
        Message.assistant("It is 18 °C."),
    )
    got = ChatRequest(model="m", messages=messages).to_json()["messages"]
    assert got == [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA",
                                                "detail": "auto"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "chatcmpl-tool-1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "content": '{"temp_c": 18}', "tool_call_id": "chatcmpl-tool-1"},
        {"role": "assistant", "content": "It is 18 °C."},
    ]  # fmt: skip
    assert [Message.from_json(m) for m in got] == list(messages)


def test_every_field_serialises() -> None:
    b = body(
        stream=True,
        include_usage=True,
        max_tokens=5,
        max_completion_tokens=6,
        n=2,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        logit_bias={"1": 2.0},
        logprobs=True,
        top_logprobs=3,
        response_format={"type": "json_object"},
        stop=("s",),
        temperature=0.3,
        top_p=0.9,
        tools=(TOOL,),
        tool_choice="auto",
        seed=7,
        user="u",
        parallel_tool_calls=False,
        reasoning_effort="low",
    )
    assert set(b) == {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "n",
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "response_format",
        "stop",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "seed",
        "user",
        "parallel_tool_calls",
        "reasoning_effort",
    }


# -- the option table -----------------------------------------------------------
@pytest.mark.parametrize(("name", "text", "value"), [
    ("temperature", "0", 0.0), ("temperature", "2", 2.0), ("top_p", "1", 1.0),
    ("n", "3", 3), ("seed", "-5", -5), ("frequency_penalty", "-2", -2.0),
    ("top_logprobs", "20", 20), ("logprobs", "true", True), ("logprobs", "off", False),
])  # fmt: skip
def test_option_parse_ok(name: str, text: str, value: object) -> None:
    assert option(name).parse(text) == value


@pytest.mark.parametrize(("name", "text", "needle"), [
    ("temperature", "2.5", "--temperature"), ("temperature", "-1", "out of range"),
    ("temperature", "nan", "finite"), ("temperature", "hot", "expected a number"),
    ("top_p", "0", "out of range"), ("n", "0", "--n"), ("n", "1.5", "whole number"),
    ("presence_penalty", "3", "out of range"), ("top_logprobs", "21", "out of range"),
    ("logprobs", "maybe", "true or false"), ("reasoning_effort", "max", "not one of"),
])  # fmt: skip
def test_option_parse_errors_name_the_flag(name: str, text: str, needle: str) -> None:
    with pytest.raises(OptionError) as info:
        option(name).parse(text)
    assert needle in str(info.value)
    assert option(name).flag in str(info.value)


def test_option_lookup_by_flag_and_unknown() -> None:
    assert option("--top-p").name == "top_p"
    with pytest.raises(OptionError, match="unknown option"):
        option("--temprature")


def test_parse_option_unset_and_tools() -> None:
    assert parse_option("temperature", "none") == ("temperature", None)
    assert parse_option("tools", "a, b") == ("tools", ("a", "b"))


def test_top_logprobs_needs_logprobs() -> None:
    with pytest.raises(OptionError, match="--logprobs"):
        check_combination({"top_logprobs": 5})
    check_combination({"top_logprobs": 5, "logprobs": True})


def test_every_request_field_has_an_option() -> None:
    names = {o.name for o in OPTIONS}
    for field in (
        "model",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "n",
        "frequency_penalty",
        "presence_penalty",
        "seed",
        "stop",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "response_format",
        "tools",
        "tool_choice",
    ):
        assert field in names
