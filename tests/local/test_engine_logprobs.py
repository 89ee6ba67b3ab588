"""The heatmap on real engine logprobs: its tokens join to the reply text."""

from __future__ import annotations

from typing import Any

import pytest

from nscale_jupyter import ChatRequest, Client, Message
from nscale_jupyter.display._heatmap import heatmap_html
from nscale_jupyter.display._tokens import align
from tests.display.test_logprobs_views import spans

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("stream", [False, True])
def test_heatmap_tokens_join_to_the_reply(engine: Any, stream: bool) -> None:
    with Client(base_url=engine.base_url) as client:
        result = client.chat(
            ChatRequest(
                model=engine.model,
                messages=(Message.user("Tell me a story."),),
                stream=stream,
                logprobs=True,
                top_logprobs=5,
                max_tokens=40,
                temperature=1.0,
                seed=3,
            )
        )
    tokens = result.logprobs or ()
    assert len(tokens) == 40 and all(len(t.top_logprobs) == 5 for t in tokens)
    assert "".join(t.text for t in align(tokens, result.text)) == result.text
    assert "".join(spans(heatmap_html(tokens, result.text)).text) == result.text
