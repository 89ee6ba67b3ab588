"""The API key never shows: reprs, errors, tracebacks, logs; it goes only where it should."""

from __future__ import annotations

import asyncio
import logging
import pickle
import traceback

import httpx
import pytest

from nscale_jupyter import AsyncClient, AuthenticationError, Client, ConfigError, ConnectError
from nscale_jupyter._config import Secret, is_loopback_url, resolve_api_key, resolve_base_url

from .helpers import REQUEST
from .streams import Recorder, sse, stream_response, text_chunks

KEY = "sk-SENTINEL-do-not-leak-4242"


def test_secret_hides_itself() -> None:
    secret = Secret(KEY)
    for text in (repr(secret), str(secret), f"{secret}", repr([secret])):
        assert KEY not in text
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == KEY


def test_client_repr_has_no_key() -> None:
    async def go() -> None:
        client = AsyncClient(KEY, base_url="https://api.test/v1")
        assert KEY not in repr(client) and KEY not in str(vars(client))
        assert KEY not in repr(client._http.auth)
        await client.aclose()

    asyncio.run(go())


def test_errors_and_tracebacks_have_no_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    texts: list[str] = []
    for handler, exc_type in (
        (lambda r: httpx.Response(401, json={"error": "Unauthorized"}), AuthenticationError),
        (refuse, ConnectError),
    ):

        async def go(h=handler) -> None:  # type: ignore[no-untyped-def]
            async with AsyncClient(
                KEY,
                base_url="https://api.test/v1",
                max_retries=0,
                transport=httpx.MockTransport(h),
            ) as client:
                await client.chat(REQUEST)

        with pytest.raises(exc_type) as info:
            asyncio.run(go())
        texts += [
            str(info.value),
            repr(info.value),
            "".join(traceback.format_exception(info.type, info.value, info.tb)),
        ]
    texts.append(caplog.text)
    for text in texts:
        assert KEY not in text


def test_key_only_in_authorization_header() -> None:
    rec = Recorder(stream_response(sse(text_chunks(["ok"]))))

    async def go() -> None:
        async with AsyncClient(
            KEY, base_url="https://api.test/v1", transport=rec.transport()
        ) as client:
            await client.chat(REQUEST.replace(stream=True))

    asyncio.run(go())
    (request,) = rec.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    others = [v for k, v in request.headers.items() if k != "authorization"]
    assert all(KEY not in v for v in others)
    assert KEY not in str(request.url) and KEY.encode() not in request.content


def test_key_not_sent_to_another_host() -> None:
    rec = Recorder(httpx.Response(200, json={"ok": True}))

    async def go() -> None:
        async with AsyncClient(
            KEY, base_url="https://api.test/v1", transport=rec.transport()
        ) as client:
            await client._http.get("https://elsewhere.test/v1/models")

    asyncio.run(go())
    assert "authorization" not in rec.requests[0].headers


def test_plain_http_to_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        AsyncClient(KEY, base_url="http://example.com/v1")
    with pytest.warns(UserWarning, match="unencrypted to http://example.com/v1") as warned:
        AsyncClient(KEY, base_url="http://example.com/v1", allow_insecure_http=True)
    assert all(KEY not in str(w.message) for w in warned)
    AsyncClient(KEY, base_url="http://127.0.0.1:8000/v1")
    AsyncClient(None, base_url="http://example.com/v1")  # no key, nothing to leak


def test_loopback_detection() -> None:
    assert is_loopback_url("http://127.0.0.1:8000/v1")
    assert is_loopback_url("http://localhost/v1") and is_loopback_url("http://[::1]:80/")
    assert not is_loopback_url("http://10.0.0.1/") and not is_loopback_url("https://x.test/")


def test_resolution_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NSCALE_API_KEY", raising=False)
    monkeypatch.delenv("NSCALE_BASE_URL", raising=False)
    assert resolve_api_key() is None
    assert resolve_base_url() == "https://inference.api.nscale.com/v1"
    monkeypatch.setenv("NSCALE_API_KEY", KEY)
    monkeypatch.setenv("NSCALE_BASE_URL", "http://127.0.0.1:9/v1/")
    assert resolve_api_key() == Secret(KEY)
    assert resolve_base_url() == "http://127.0.0.1:9/v1"
    assert resolve_base_url("https://other/v1") == "https://other/v1"


def test_sync_client_facade() -> None:
    rec = Recorder(
        stream_response(sse(text_chunks(["a", "b"]))),
        httpx.Response(200, json={"object": "list", "data": [{"id": "m1"}, {"x": 1}]}),
        stream_response(sse(text_chunks(["c", "d", "e"]))),
    )
    client = Client(KEY, base_url="https://api.test/v1", transport=rec.transport())
    try:
        assert KEY not in repr(client)
        assert client.chat(REQUEST.replace(stream=True)).text == "ab"
        assert [m.id for m in client.models()] == ["m1"]
        events = client.stream(REQUEST)
        first = next(events)
        events.close()  # breaking out closes the connection
        assert first.text == "c"  # type: ignore[union-attr]
    finally:
        client.close()
