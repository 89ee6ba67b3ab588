"""result.branch(): the original request continued from a prefix with another token (issue 19)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import nscale_jupyter
from nscale_jupyter import Branch, BranchError, ChatResult
from nscale_jupyter._branching import alternatives, branch_point
from nscale_jupyter._session import Session
from tests.html import tags

KEY = "sk-SENTINEL-branch-1a2b"
TOKENS = [("The", [("The", -0.1), ("A", -2.5)]),
          (" <b>cat", [(" <b>cat", -0.9), (" dog", -1.0), (" fox", -2.0)]),
          (" sat", [(" sat", -0.05), (" ran", -3.0)])]  # fmt: skip


def response(tokens: list[tuple[str, list[tuple[str, float]]]], text: str) -> dict[str, Any]:
    content = [
        {"token": t, "logprob": top[0][1], "top_logprobs": [
            {"token": a, "logprob": lp} for a, lp in top
        ]}
        for t, top in tokens
    ]  # fmt: skip
    return {
        "id": "x",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text},
             "logprobs": {"content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": len(tokens), "total_tokens": 8},
    }  # fmt: skip


class Server:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.refuse = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "m"}]})
        body = json.loads(request.content)
        self.bodies.append(body)
        if self.refuse and body.get("continue_final_message"):
            return httpx.Response(400, json={"error": {"message": "no such thing", "code": 400}})
        if body.get("continue_final_message"):
            return httpx.Response(200, json=response([(" away", [(" away", -0.2)])], " away"))
        return httpx.Response(200, json=response(TOKENS, "The <b>cat sat"))


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def session(server: Server) -> Any:
    s = Session(api_key=KEY, transport=httpx.MockTransport(server))
    s.settings.base_url = "https://branch.test/v1"
    yield s
    s.close()


def original(session: Session) -> ChatResult:
    return nscale_jupyter.chat(
        "Once", session=session, stream=False, temperature=0.7, logprobs=True, top_logprobs=3,
        extra={"top_k": 5},
    )  # fmt: skip


def test_the_branch_continues_the_original_request(session: Session, server: Server) -> None:
    result = original(session)
    branch = result.branch(1, 1, session=session)
    assert isinstance(branch, Branch)
    sent, first = server.bodies[-1], server.bodies[0]
    assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
    assert sent["messages"][:-1] == first["messages"]
    assert sent["messages"][-1] == {"role": "assistant", "content": "The dog"}
    for key in ("temperature", "top_logprobs", "logprobs", "top_k", "model", "max_tokens"):
        assert sent[key] == first[key]
    assert branch.text == "The dog away"
    assert branch.tokens == ("The", " dog", " away")
    assert branch.point.replaced == " <b>cat" and branch.point.position == 1
    assert session.thread().messages == []  # nothing recorded


def test_defaults_the_least_sure_position_and_the_runner_up(session: Session) -> None:
    result = original(session)
    point = branch_point(result)
    assert (point.position, point.token) == (1, " dog")
    assert branch_point(result, 0, "A").token == "A"
    assert [a.token for a in alternatives((result.logprobs or ())[2])] == [" sat", " ran"]


def test_clear_errors(session: Session, server: Server) -> None:
    result = original(session)
    with pytest.raises(BranchError, match=r"outside 0\.\.2"):
        result.branch(7, session=session)
    with pytest.raises(BranchError, match="no alternative 5 at 0; it has 0: 'The', 1: 'A'"):
        result.branch(0, 5, session=session)
    server.refuse = True
    with pytest.raises(BranchError, match=r"cannot continue a message.*no such thing"):
        result.branch(1, session=session)
    with pytest.raises(BranchError, match="--top-logprobs"):
        ChatResult().branch(session=session)


def test_side_by_side_escapes_the_model_text(session: Session) -> None:
    branch = original(session).branch(1, 1, session=session)
    html = branch._repr_html_()
    assert "nscale-branch" in html and "&lt;b&gt;cat" in html
    assert tags(html).tags.count("mark") == 2 and tags(html).tags.count("b") == 2  # titles
    assert "Branch at 1" in repr(branch)


def test_the_cell_heatmap_says_how_to_branch_at_each_token(session: Session) -> None:
    from nscale_jupyter.display._heatmap import heatmap_html

    result = original(session)
    html = heatmap_html(list(result.logprobs or ()), result.text)
    assert all(f"_.branch({i}, " in html for i in range(3))
