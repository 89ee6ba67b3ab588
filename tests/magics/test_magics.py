"""%%chat and %chat in a real IPython shell (IPython's own test shell)."""

from __future__ import annotations

import _thread
import asyncio
import threading
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter import ChatResult
from nscale_jupyter._session import Session
from tests.core.streams import Body, choice, chunk, role, sse, stream_response

from .conftest import KEY, Server, ipython_shell, reply


def cell(ip: InteractiveShell, line: str, body: str) -> Any:
    with capture_output() as cap:
        ip.run_cell_magic("chat", line, body)
    return cap


def test_cell_sends_the_prompt_and_streams_the_reply(ip: InteractiveShell, server: Server) -> None:
    cap = cell(ip, "--model m", "Hello there")
    assert server.last["messages"] == [{"role": "user", "content": "Hello there"}]
    assert server.last["stream"] is True
    assert server.last["stream_options"] == {"include_usage": True}
    assert server.last["max_tokens"] == 1024  # always sent
    assert "Hello!" in cap.stdout
    result = ip.user_ns["_"]
    assert isinstance(result, ChatResult) and result.text == "Hello!"


def test_every_option_reaches_the_body(ip: InteractiveShell, server: Server) -> None:
    ip.user_ns["bias"] = {"42": -100}
    ip.user_ns["schema"] = {"type": "object", "properties": {"a": {"type": "string"}}}
    ip.user_ns["weather_tools"] = [{"type": "function", "function": {"name": "get_weather"}}]
    line = (
        "-m mm -t 0 --top-p 0.9 --max-tokens 7 --max-completion-tokens 8 -n 2 "
        "--frequency-penalty 0.5 --presence-penalty -0.5 --seed 3 --stop A --stop B "
        "--logprobs --top-logprobs 4 --logit-bias bias --response-format schema "
        "--tools weather_tools --tool-choice get_weather --parallel-tool-calls false "
        "--reasoning-effort low --user u1 --top-k 5 --min-p 0.1 --repetition-penalty 1.1 "
        "--chat-template-kwargs '{\"enable_thinking\": true}' --extra ignore_eos=true "
        "--extra '!my_field=\"x\"' --no-usage"
    )
    cell(ip, line, "hi")
    body = server.last
    expected = {
        "model": "mm", "temperature": 0.0, "top_p": 0.9, "max_tokens": 7,
        "max_completion_tokens": 8, "n": 2, "frequency_penalty": 0.5, "presence_penalty": -0.5,
        "seed": 3, "stop": ["A", "B"], "logprobs": True, "top_logprobs": 4,
        "logit_bias": {"42": -100.0},
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "response", "schema": ip.user_ns["schema"]}},
        "tools": ip.user_ns["weather_tools"],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False, "reasoning_effort": "low", "user": "u1", "top_k": 5,
        "min_p": 0.1, "repetition_penalty": 1.1, "chat_template_kwargs": {"enable_thinking": True},
        "ignore_eos": True, "my_field": "x", "stream": True,
        "stream_options": {"include_usage": False},
        "messages": [{"role": "user", "content": "hi"}],
    }  # fmt: skip
    assert body == expected


def test_no_stream(ip: InteractiveShell, server: Server) -> None:
    server.script(
        lambda r: httpx.Response(
            200,
            json={
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Full"},
                        "finish_reason": "stop",
                    }
                ],
            },
        )
    )
    cap = cell(ip, "-m m --no-stream", "hi")
    assert "stream" not in server.last and "stream_options" not in server.last
    assert "Full" in cap.stdout


@pytest.mark.parametrize(("line", "needle"), [
    ("--temperature 3", "--temperature"), ("--top-p 0", "--top-p"), ("-n 0", "--n"),
    ("--frequency-penalty 9", "--frequency-penalty"), ("--top-logprobs 3", "--logprobs"),
    ("--logprobs --top-logprobs 30", "--top-logprobs"),
    ("--logit-bias '{\"x\": 1}'", "--logit-bias"),
    ("--logit-bias '{\"1\": 500}'", "[-100, 100]"), ("--response-format '{bad'", "JSON"),
    ("--seed x", "--seed"), ("--bogus 1", "unrecognized"), ("--extra nonsense", "KEY=VALUE"),
    ("--extra top_kk=3", "unknown vLLM field"), ("--reasoning-effort max", "not one of"),
])  # fmt: skip
def test_bad_options_are_one_line_usage_errors(
    ip: InteractiveShell, server: Server, line: str, needle: str
) -> None:
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("chat", "-m m " + line, "hi")
    assert needle in str(info.value)
    assert "\n" not in str(info.value).strip()
    assert not server.bodies  # nothing was sent


def test_settings_precedence(ip: InteractiveShell, server: Server) -> None:
    ip.run_line_magic("config", "ChatSettings.temperature = 0.1")
    ip.run_line_magic("config", "ChatSettings.top_p = 0.5")
    ip.run_line_magic("config", "ChatSettings.seed = 1")
    ip.run_line_magic("chat", "set model=m temperature=0.7 seed=2")
    cell(ip, "--seed 3", "hi")
    body = server.last
    assert (body["top_p"], body["temperature"], body["seed"]) == (0.5, 0.7, 3)
    ip.run_line_magic("chat", "set temperature=none")
    cell(ip, "", "again")
    assert "temperature" not in server.last
    with pytest.raises(UsageError, match="out of range"):
        ip.run_line_magic("chat", "set temperature=9")


def test_config_and_set_share_one_settings_object(ip: InteractiveShell) -> None:
    settings = api.default_session().settings
    ip.run_line_magic("chat", "set temperature=0.3")
    assert settings.temperature == 0.3
    ip.run_line_magic("config", "ChatSettings.temperature = 1.2")
    assert settings.temperature == 1.2


def test_model_defaults_to_the_only_served_model(ip: InteractiveShell, server: Server) -> None:
    cell(ip, "", "hi")
    assert server.last["model"] == "only-model"


def test_interpolation(ip: InteractiveShell, server: Server) -> None:
    import types

    ip.user_ns.update(city="Paris", days=[4, 5], trip=types.SimpleNamespace(to="Rome"))
    prompt = (
        'Weather in {city} for {days[0]} days, then {trip.to}? JSON: {"a": 1}; {{city}}; '
        "ts: function f() { return x; }; tex: \\frac{a}{b}; {k: v for k in d}; {days[0] + 1}"
    )
    cell(ip, "-m m", prompt)
    assert server.last["messages"][-1]["content"] == (
        'Weather in Paris for 4 days, then Rome? JSON: {"a": 1}; {city}; '
        "ts: function f() { return x; }; tex: \\frac{a}{b}; {k: v for k in d}; {days[0] + 1}"
    )
    cell(ip, "-m m --no-interpolate", "{city} {{x}}")
    assert server.last["messages"][-1]["content"] == "{city} {{x}}"
    with pytest.raises(UsageError, match="no variable named 'nowhere'"):
        ip.run_cell_magic("chat", "-m m", "about {nowhere}")


def test_multi_turn_threads_and_history(ip: InteractiveShell, server: Server) -> None:
    cell(ip, "-m m", "first")
    cell(ip, "-m m", "second")
    assert [m["content"] for m in server.last["messages"]] == ["first", "Hello!", "second"]
    cell(ip, "-m m --thread lesson --system 'be terse'", "other")
    assert server.last["messages"] == [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": "other"},
    ]
    ip.run_line_magic("chat", "thread default")
    ip.run_line_magic("chat", "new")
    cell(ip, "-m m", "fresh")
    assert [m["content"] for m in server.last["messages"]] == ["fresh"]
    with capture_output() as cap:
        ip.run_line_magic("chat", "threads")
        ip.run_line_magic("chat", "history lesson")
    assert "lesson" in cap.stdout
    ip.run_line_magic("chat", 'system "You are a pirate."')
    cell(ip, "-m m", "ahoy")
    assert server.last["messages"][0] == {"role": "system", "content": "You are a pirate."}
    ip.run_line_magic("chat", "undo")
    assert api.default_session().thread().messages[-1].content == "Hello!"


def test_line_magic_prompt(ip: InteractiveShell, server: Server) -> None:
    with capture_output():
        ip.run_line_magic("chat", "-m m -t 0 what is 2+2?")
    assert server.last["messages"][-1]["content"] == "what is 2+2?"
    assert server.last["temperature"] == 0.0


def test_out_and_quiet(ip: InteractiveShell, server: Server) -> None:
    cap = cell(ip, "-m m --quiet --out answer", "hi")
    assert cap.stdout == "" and not cap.outputs
    assert ip.user_ns["answer"].text == "Hello!"


def test_api_error_is_one_line_and_history_unchanged(ip: InteractiveShell, server: Server) -> None:
    cell(ip, "-m m", "kept")
    server.script(
        lambda r: httpx.Response(
            404,
            json={
                "error": {
                    "message": "The model `zz` does not exist.",
                    "type": "NotFoundError",
                    "code": 404,
                }
            },
        )
    )
    cap = cell(ip, "-m zz", "lost")
    assert "404" in cap.stderr and "does not exist" in cap.stderr
    assert "Traceback" not in cap.stderr + cap.stdout
    assert [m.content for m in api.default_session().thread().messages] == ["kept", "Hello!"]
    cell(ip, "-m m", "next works")
    assert server.last["messages"][-1]["content"] == "next works"


def test_stream_broken_midway_keeps_partial_marked(ip: InteractiveShell, server: Server) -> None:
    body = sse([chunk(role()), chunk(choice(content="Half a "))], done=False)
    server.script(
        lambda r: httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=Body([body], httpx.ReadError("reset")),
        )
    )
    cap = cell(ip, "-m m", "story")
    assert "Half a" in cap.stdout and "cut off" in cap.stdout
    assert "connection broke" in cap.stderr
    last = api.default_session().thread().messages[-1]
    assert last.content == "Half a " and last.truncated


def test_interrupt_keeps_partial_and_closes_the_stream(
    ip: InteractiveShell, server: Server
) -> None:
    closed = threading.Event()
    first_sent = threading.Event()

    class Stalling(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[override]
            yield sse([chunk(role()), chunk(choice(content="Once upon"))], done=False)
            first_sent.set()
            await asyncio.sleep(60)

        async def aclose(self) -> None:
            closed.set()

    server.script(
        lambda r: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Stalling()
        )
    )
    threading.Thread(
        target=lambda: (first_sent.wait(10), _thread.interrupt_main()), daemon=True
    ).start()
    cap = cell(ip, "-m m", "tell a story")
    assert closed.wait(5)
    assert "interrupted" in cap.stderr and "Once upon" in cap.stdout
    last = api.default_session().thread().messages[-1]
    assert last.content == "Once upon" and last.truncated
    cell(ip, "-m m", "next")  # the next cell runs normally
    assert server.last["messages"][-2]["content"] == "Once upon"


def test_key_asked_once_with_getpass_and_never_shown(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.delenv("NSCALE_API_KEY", raising=False)
    monkeypatch.delenv("NSCALE_BASE_URL", raising=False)
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or KEY)
    api.set_default_session(Session(transport=httpx.MockTransport(server)))
    shell = ipython_shell()
    shell.run_line_magic("load_ext", "nscale_jupyter")
    try:
        with capture_output() as cap:
            shell.run_cell_magic("chat", "-m m", "hi")
            shell.run_cell_magic("chat", "-m m", "again")
            shell.run_line_magic("chat", "settings")
            shell.run_line_magic("chat", "history")
        assert len(asked) == 1
        assert server.recorder.requests[-1].headers["authorization"] == f"Bearer {KEY}"
        seen = cap.stdout + cap.stderr + repr(cap.outputs) + repr(api.default_session())
        seen += repr(shell.user_ns["_"]) + str(vars(api.default_session()))
        assert KEY not in seen
    finally:
        shell.run_line_magic("unload_ext", "nscale_jupyter")


def test_load_unload_load(ip: InteractiveShell, server: Server) -> None:
    assert "chat" in ip.magics_manager.magics["cell"]
    ip.run_line_magic("unload_ext", "nscale_jupyter")
    assert "chat" not in ip.magics_manager.magics["cell"]
    assert "chat" not in ip.magics_manager.magics["line"]
    assert api.default_session().settings not in ip.configurables  # a fresh session
    api.set_default_session(Session(api_key=KEY, transport=httpx.MockTransport(server)))
    ip.run_line_magic("load_ext", "nscale_jupyter")
    cell(ip, "-m m", "back")
    assert server.last["messages"][-1]["content"] == "back"


def test_help_lists_every_option(ip: InteractiveShell) -> None:
    from nscale_jupyter._options import OPTIONS

    with capture_output() as cap:
        ip.run_cell("%%chat?")
    assert "<no docstring>" not in cap.stdout
    for opt in OPTIONS:
        assert opt.flag in cap.stdout, opt.flag
    for flag in ("--thread", "--no-stream", "--max-tool-rounds", "--no-run-tools"):
        assert flag in cap.stdout
    with capture_output() as line_help:
        ip.run_line_magic("chat", "--help")
    assert "--temperature" in line_help.stdout and "PROMPT" in line_help.stdout.upper()


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    words=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "-m",
                    "m",
                    "-t",
                    "--top-p",
                    "--seed",
                    "-n",
                    "--stop",
                    "--logprobs",
                    "--top-logprobs",
                    "--extra",
                    "--logit-bias",
                    "--response-format",
                    "--new",
                    "--thread",
                    "--quiet",
                    "--no-stream",
                    "--plot",
                    "--tool-choice",
                    "0",
                    "1.5",
                    "-3",
                    "nan",
                    "'{\"a\": 1}'",
                    "json_object",
                    "x=1",
                    "--",
                    "'",
                    "{",
                ]
            ),
            st.text(max_size=8),
        ),
        max_size=8,
    )
)
def test_random_option_strings_give_success_or_usage_error(
    ip: InteractiveShell, words: list[str]
) -> None:
    try:
        with capture_output():
            ip.run_cell_magic("chat", " ".join(words), "hi")
    except UsageError:
        pass


def test_max_tokens_capped_by_the_context_length(ip: InteractiveShell, server: Server) -> None:
    def with_context(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            server.recorder.requests.append(request)
            return httpx.Response(200, json={"data": [{"id": "small", "max_model_len": 512}]})
        return server(request)

    session = api.default_session()
    session._transport = httpx.MockTransport(with_context)
    session.settings.base_url = "https://small.test/v1"  # a new client and model list
    cell(ip, "-m small", "hi")  # default max_tokens 1024 > 512
    assert server.last["max_tokens"] == 512
    cell(ip, "-m small --max-tokens 100", "hi")
    assert server.last["max_tokens"] == 100


def define_tool(ip: InteractiveShell, source: str, name: str) -> None:
    """Define a function in the notebook and ``%chat tool`` it into a fresh registry."""
    from nscale_jupyter._tools import ToolRegistry

    api.default_session().tools = ToolRegistry()
    ip.run_cell(source)
    with capture_output():
        ip.run_line_magic("chat", f"tool {name}")


def test_registered_tools_run_in_a_loop(ip: InteractiveShell, server: Server) -> None:
    from tests.tools.test_loop import calls_stream

    source = "def get_weather(city: str) -> str:\n    return f'18 C in {city}'"
    define_tool(ip, source, "get_weather")
    server.script(
        lambda r: stream_response(calls_stream(("t1", "get_weather", '{"city": "Paris"}'))),
        reply("It is 18 C."),
    )
    cap = cell(ip, "-m m --tools get_weather", "weather?")
    assert server.last["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "t1",
        "content": "18 C in Paris",
    }
    assert "get_weather -> [done] 18 C in Paris" in cap.stdout and "It is 18 C." in cap.stdout
    roles = [m.role for m in api.default_session().thread().messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    with capture_output() as listing:
        ip.run_line_magic("chat", "tools")
    assert '"name": "get_weather"' in listing.stdout


def test_no_run_tools_then_answer_by_hand(ip: InteractiveShell, server: Server) -> None:
    from tests.tools.test_loop import calls_stream

    define_tool(ip, "def lookup(city: str) -> str:\n    return city", "lookup")
    server.script(
        lambda r: stream_response(calls_stream(("t7", "lookup", '{"city": "Oslo"}'))),
        reply("Thanks!"),
    )
    cap = cell(ip, "-m m --tools lookup --no-run-tools", "look it up")
    assert "%chat tool-result" in cap.stderr
    with pytest.raises(UsageError, match=r"no tool call 't0' is waiting .*; waiting: t7"):
        ip.run_line_magic("chat", "tool-result t0 x")
    with capture_output() as answer:
        ip.run_line_magic("chat", "tool-result t7 cold and dark")
    assert server.last["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "t7",
        "content": "cold and dark",
    }
    assert "Thanks!" in answer.stdout


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.text(
        alphabet=st.sampled_from(list("{}ab 1_.\"'\\:[]()\n\u2028😀\x00é")),
        min_size=1,
        max_size=30,
    )
)
def test_random_cell_bodies_give_success_or_usage_error(
    ip: InteractiveShell, server: Server, body: str
) -> None:
    ip.user_ns["a"] = "A"
    try:
        with capture_output():
            ip.run_cell_magic("chat", "-m m", body)
    except UsageError as exc:
        assert "\n" not in str(exc).strip()
