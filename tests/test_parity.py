"""One conversation through every face: the same request bodies and the same history.

A real loopback server answers one scripted conversation: a system prompt,
a turn whose tool (a Python function) runs by itself, a turn whose tool (a
dict) a person answers, and a turn with ``n=2``, logprobs and no streaming.
``%%chat``, ``%chat PROMPT``, ``chat()``, ``achat()`` and the panel each hold
it; the server must see the same bodies, in order, and each thread must end
the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter import achat, answer, chat
from nscale_jupyter._session import Session
from nscale_jupyter._tools import ToolRegistry
from tests.core.streams import choice, chunk, role
from tests.magics.conftest import ipython_shell
from tests.servers.fault_server import FaultServer, Received, Reply, sse_events

KEY = "sk-SENTINEL-parity-5b1e"
SYSTEM = "Be brief."
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a city up.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TOOLS = "get_weather,lookup"


def get_weather(city: str) -> dict[str, Any]:
    """Get the weather in a city.

    Args:
        city: The city name.
    """
    return {"city": city, "temp_c": 18}


def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(get_weather)
    reg.add_schema(LOOKUP)
    return reg


def _logprobs(text: str) -> dict[str, Any]:
    alts = [{"token": text, "logprob": -0.1}, {"token": "x", "logprob": -2.5}]
    return {"content": [{"token": text, "logprob": -0.1, "bytes": None, "top_logprobs": alts}]}


def _reply(choices: list[dict[str, Any]], stream: bool) -> Reply:
    """The same reply as a stream or as one JSON response."""
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    if not stream:
        body = {
            "id": "chatcmpl-parity",
            "object": "chat.completion",
            "created": 1,
            "model": "fake",
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", **{k: v for k, v in c.items() if k != "lp"}},
                    "logprobs": _logprobs(c["content"]) if c.get("lp") else None,
                    "finish_reason": "tool_calls" if c.get("tool_calls") else "stop",
                }
                for i, c in enumerate(choices)
            ],
            "usage": usage,
        }
        return Reply(body=json.dumps(body).encode(), headers={"content-type": "application/json"})
    chunks = []
    for i, c in enumerate(choices):
        chunks.append(chunk(role(i), model="fake"))
        if c.get("content"):
            lp = _logprobs(c["content"]) if c.get("lp") else None
            chunks.append(chunk(choice(i, content=c["content"], logprobs=lp), model="fake"))
        for k, call in enumerate(c.get("tool_calls") or ()):
            chunks.append(chunk(choice(i, tool_calls=[{**call, "index": k}]), model="fake"))
        finish = "tool_calls" if c.get("tool_calls") else "stop"
        chunks.append(chunk(choice(i, finish_reason=finish), model="fake"))
    chunks.append(chunk(usage=usage, model="fake"))
    return Reply(events=sse_events(chunks))


def _call(call_id: str, name: str, city: str) -> dict[str, Any]:
    arguments = json.dumps({"city": city})
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def respond(received: Received) -> Reply:
    """The scripted conversation: what the model says, from what it was sent."""
    body = received.json
    last = body["messages"][-1]
    stream = bool(body.get("stream"))
    if last["role"] == "tool":
        return _reply([{"content": f"Noted: {last['content']}"}], stream)
    question = last["content"]
    if "Paris" in question:
        return _reply([{"tool_calls": [_call("call_w", "get_weather", "Paris")]}], stream)
    if "Rome" in question:
        return _reply([{"tool_calls": [_call("call_l", "lookup", "Rome")]}], stream)
    return _reply([{"content": f"Story {i}", "lp": True} for i in range(body.get("n", 1))], stream)


# -- the faces -------------------------------------------------------------------------
def magic_face(session: Session, line_magic: bool) -> None:
    shell = ipython_shell()
    shell.config.pop("ChatSettings", None)  # no %config left by another test
    api.set_default_session(session)
    shell.run_line_magic("load_ext", "nscale_jupyter")
    try:
        with capture_output():

            def ask(options: str, prompt: str) -> None:
                if line_magic:
                    shell.run_line_magic("chat", f"{options} {prompt}")
                else:
                    shell.run_cell_magic("chat", options, prompt)

            shell.run_line_magic("chat", f'system "{SYSTEM}"')
            ask(f"-m fake --tools {TOOLS}", "What is the weather in Paris?")
            ask(f"-m fake --tools {TOOLS}", "Look up Rome")
            shell.run_line_magic("chat", "tool-result call_l sunny")
            ask("-m fake -n 2 --logprobs --top-logprobs 2 --no-stream", "Two stories")
    finally:
        shell.run_line_magic("unload_ext", "nscale_jupyter")
        shell.user_ns.pop("_", None)


def chat_face(session: Session) -> None:
    session.thread().system = SYSTEM
    tools = TOOLS.split(",")
    chat("What is the weather in Paris?", thread="default", session=session, model="fake",
         tools=tools)  # fmt: skip
    pending = chat("Look up Rome", thread="default", session=session, model="fake", tools=tools)
    assert [c.id for c in pending.tool_calls] == ["call_l"]
    answer("call_l", "sunny", session=session)
    chat("Two stories", thread="default", session=session, model="fake", n=2, logprobs=True,
         top_logprobs=2, stream=False)  # fmt: skip


def achat_face(session: Session) -> None:
    async def go() -> None:
        session.thread().system = SYSTEM
        tools = TOOLS.split(",")
        await achat("What is the weather in Paris?", thread="default", session=session,
                    model="fake", tools=tools)  # fmt: skip
        await achat("Look up Rome", thread="default", session=session, model="fake",
                    tools=tools)  # fmt: skip
        answer("call_l", "sunny", session=session)
        await achat("Two stories", thread="default", session=session, model="fake", n=2,
                    logprobs=True, top_logprobs=2, stream=False)  # fmt: skip

    asyncio.run(go())


def panel_face(session: Session) -> None:
    from nscale_jupyter.widgets._panel import Panel

    async def go() -> None:
        panel = Panel(session)
        panel.system.value = SYSTEM  # the default system prompt, for threads without their own
        session.settings.tools = TOOLS.split(",")
        panel.model.value = "fake"
        for prompt in ("What is the weather in Paris?", "Look up Rome"):
            panel.prompt.value = prompt
            await panel.run()
            panel.keep.click()
        answer("call_l", "sunny", session=session)  # the panel has no answering box
        session.settings.tools = None  # the panel offers the settings' tools: none now
        for name, value in (("n", 2), ("logprobs", True), ("top_logprobs", 2)):
            panel.controls[name].enabled.value = True
            panel.controls[name].value.value = value
        session.settings.stream = False
        panel.prompt.value = "Two stories"
        await panel.run()
        panel.keep.click()

    asyncio.run(go())


FACES: dict[str, Callable[[Session], None]] = {
    "%%chat": lambda s: magic_face(s, line_magic=False),
    "%chat PROMPT": lambda s: magic_face(s, line_magic=True),
    "chat()": chat_face,
    "achat()": achat_face,
    "panel": panel_face,
}


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, tuple[list[Any], list[Any]]]]:
    """Each face's (request bodies, final history), against one loopback server."""
    out = {}
    with FaultServer() as srv:
        srv.respond = respond
        for name, face in FACES.items():
            srv.requests.clear()
            session = Session(api_key=KEY)
            session.settings.base_url = srv.base_url
            session.tools = registry()
            try:
                face(session)
                history = [m.to_json() for m in session.history(session.thread("default"))]
            finally:
                session.close()
            bodies = [r.json for r in srv.requests if r.path.endswith("/chat/completions")]
            out[name] = (bodies, history)
    yield out


def test_the_conversation_is_what_the_script_says(runs: Any) -> None:
    bodies, history = runs["%%chat"]
    assert len(bodies) == 5  # weather, its tool answer; lookup, its answer by hand; stories
    assert [m["role"] for m in history] == [
        "system", "user", "assistant", "tool", "assistant",
        "user", "assistant", "tool", "assistant", "user", "assistant",
    ]  # fmt: skip
    assert history[0] == {"role": "system", "content": SYSTEM}
    assert history[3] == {"role": "tool", "tool_call_id": "call_w",
                          "content": '{"city": "Paris", "temp_c": 18}'}  # fmt: skip
    assert history[7] == {"role": "tool", "tool_call_id": "call_l", "content": "sunny"}
    assert history[8] == {"role": "assistant", "content": "Noted: sunny"}
    assert history[10] == {"role": "assistant", "content": "Story 0"}
    last = bodies[-1]
    assert last["n"] == 2 and last["logprobs"] is True and last["top_logprobs"] == 2
    assert "stream" not in last and [t["function"]["name"] for t in bodies[0]["tools"]] == [
        "get_weather",
        "lookup",
    ]


@pytest.mark.parametrize("face", [f for f in FACES if f != "%%chat"])
def test_every_face_sends_the_same_bodies_and_keeps_the_same_history(runs: Any, face: str) -> None:
    bodies, history = runs[face]
    expected_bodies, expected_history = runs["%%chat"]
    assert bodies == expected_bodies
    assert history == expected_history
