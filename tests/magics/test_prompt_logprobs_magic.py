"""--prompt-logprobs K: a vLLM extra from the option table, asked without streaming (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter
from nscale_jupyter._options import option, options_markdown
from nscale_jupyter._session import Session

from .conftest import KEY, Server

FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "responses" / "prompt_logprobs.json"
)


def whole(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=json.loads(FIXTURE.read_text())["response"])


def test_the_option_is_a_vllm_extra_in_the_table() -> None:
    opt = option("--prompt-logprobs")
    assert opt.extra and opt.kind == "int" and opt.flag == "--prompt-logprobs"
    assert "`--prompt-logprobs` | `prompt_logprobs` (vLLM extra)" in options_markdown()


def test_the_magic_asks_without_streaming_says_so_and_shows_the_prompt(
    ip: InteractiveShell, server: Server
) -> None:
    server.script(whole)
    with capture_output() as cap:
        ip.run_cell_magic("chat", "--prompt-logprobs 3 --max-tokens 5", "Hello there")
    body = server.last
    assert body["prompt_logprobs"] == 3 and not body.get("stream")
    assert "asked without streaming" in cap.stderr
    html = [o.data.get("text/html", "") for o in cap.outputs]
    assert any("nscale-prompt-heatmap" in h for h in html)
    assert ip.user_ns["_"].prompt_logprobs is not None


def test_no_notice_when_streaming_was_not_wanted(ip: InteractiveShell, server: Server) -> None:
    server.script(whole)
    with capture_output() as cap:
        ip.run_cell_magic("chat", "--prompt-logprobs 2 --no-stream -q", "Hi")
    assert not server.last.get("stream") and "streaming" not in cap.stderr


def test_set_and_chat_keyword(server: Server) -> None:
    session = Session(api_key=KEY, transport=httpx.MockTransport(server))
    session.settings.base_url = "https://api.test/v1"
    try:
        server.script(whole)
        result = nscale_jupyter.chat("Hi", session=session, prompt_logprobs=2)
        assert server.last["prompt_logprobs"] == 2 and not server.last.get("stream")
        assert result.prompt_logprobs is not None
        session.settings.prompt_logprobs = 1  # %chat set prompt_logprobs=1
        server.script(whole)
        nscale_jupyter.chat("Hi", session=session)
        assert server.last["prompt_logprobs"] == 1 and not server.last.get("stream")
    finally:
        session.close()


def test_plot_filters_replays_the_requests_knobs(ip: InteractiveShell, server: Server) -> None:
    from nscale_jupyter._magics import knobs_of
    from nscale_jupyter._types import ChatRequest

    request = ChatRequest(messages=(), temperature=0.5, top_p=0.9, extra={"min_p": 0.1})
    assert knobs_of(request) == {"temperature": 0.5, "top_p": 0.9, "min_p": 0.1}
    assert knobs_of(None) == {}
    with capture_output() as cap:
        ip.run_cell_magic("chat", "--plot filters", "Hi")
    assert "cannot plot" in cap.stderr  # no logprobs asked: one line, no traceback
