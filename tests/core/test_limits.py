"""Input past Python's own limits (JSON nested 100,000 deep) is an error, not a crash."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from nscale_jupyter import AsyncClient, OptionError, StreamError
from nscale_jupyter._exceptions import parse_error_body
from nscale_jupyter._options import parse_option

from .helpers import REQUEST, run_stream
from .streams import Recorder, chunk, role, sse

DEEP = "[" * 100_000


def models_of(response: httpx.Response) -> list[str]:
    async def go() -> list[str]:
        async with AsyncClient(
            None, base_url="https://api.test/v1", transport=Recorder(response).transport()
        ) as client:
            return [m.id for m in await client.models()]

    return asyncio.run(go())


def test_deep_json_chunk_is_a_malformed_chunk() -> None:
    body = sse([chunk(role())]).replace(b"data: [DONE]\n\n", b"") + f"data: {DEEP}\n\n".encode()
    with pytest.raises(StreamError, match="malformed chunk"):
        run_stream(body)


def test_model_lists_that_are_not_lists() -> None:
    with pytest.raises(StreamError, match="model list that is not JSON"):
        models_of(httpx.Response(200, text="<html>hello</html>"))
    with pytest.raises(StreamError, match="not JSON"):
        models_of(httpx.Response(200, text=DEEP))
    assert models_of(httpx.Response(200, json=[1, 2])) == []
    assert models_of(httpx.Response(200, json={"data": {"id": "x"}})) == []
    assert models_of(httpx.Response(200, json={"data": [1, {"id": "m"}]})) == ["m"]


def test_deep_json_error_body_is_shown_as_text() -> None:
    _, message, _, _ = parse_error_body(DEEP.encode())
    assert message.startswith("[[[") and len(message) < 1000


def test_deep_json_option_is_an_option_error() -> None:
    with pytest.raises(OptionError, match="nested too deeply"):
        parse_option("logit_bias", DEEP)


def test_full_response_that_is_too_deep_is_an_error() -> None:
    async def go() -> None:
        async with AsyncClient(
            None,
            base_url="https://api.test/v1",
            transport=Recorder(httpx.Response(200, text=DEEP)).transport(),
        ) as client:
            await client.chat(REQUEST)

    with pytest.raises(StreamError, match="not JSON"):
        asyncio.run(go())
