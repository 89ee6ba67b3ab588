"""Prompt logprobs from the real engine: one typed entry per prompt token (issue 19)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nscale_jupyter import AsyncClient, BadRequestError, ChatRequest, ChatResult, Client, Message
from nscale_jupyter.display._prompt_heatmap import prompt_heatmap_html

pytestmark = pytest.mark.engine


def ask(engine: Any, *, stream: bool = False) -> ChatRequest:
    return ChatRequest(
        model=engine.model,
        messages=(Message.user("The capital of France is Paris."),),
        stream=stream,
        max_tokens=8,
        temperature=0.0,
        logprobs=True,
        top_logprobs=5,
        extra={"prompt_logprobs": 3},
    )


def check(result: ChatResult) -> None:
    entries = result.prompt_logprobs
    assert result.usage is not None and entries is not None
    assert len(entries) == result.usage.prompt_tokens
    assert entries[0].logprob is None
    for entry in entries[1:]:
        assert entry.logprob is not None and entry.logprob <= 0.0
        assert entry.rank is not None and entry.rank >= 1
        assert len(entry.top) == (3 if entry.rank <= 3 else 4)
        assert entry.token in [t.token for t in entry.top]
    assert "Paris" in "".join(e.token for e in entries)
    assert len(result.logprobs or ()) == result.usage.completion_tokens


def test_prompt_logprobs_sync(engine: Any) -> None:
    with Client(base_url=engine.base_url) as client:
        result = client.chat(ask(engine))
    check(result)
    entries = result.prompt_logprobs or ()
    shown = [e for e in entries if e.logprob is not None and e.token]
    assert prompt_heatmap_html(entries).count('class="nscale-ptok"') == len(shown)


def test_prompt_logprobs_async(engine: Any) -> None:
    async def go() -> ChatResult:
        async with AsyncClient(base_url=engine.base_url) as client:
            return await client.chat(ask(engine))

    check(asyncio.run(go()))


def test_vllm_refuses_prompt_logprobs_when_streaming(engine: Any) -> None:
    # Why the magic asks without streaming for --prompt-logprobs.
    with Client(base_url=engine.base_url) as client, pytest.raises(BadRequestError) as caught:
        client.chat(ask(engine, stream=True))
    assert "prompt_logprobs" in str(caught.value)
