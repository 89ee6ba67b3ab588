"""Errors and retries (wire-format §4.6, §5; §8 items 14-16) through MockTransport."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import httpx
import pytest

import nscale_jupyter._client as client_module
from nscale_jupyter import (
    APIError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    ConnectError,
    InStreamError,
    NotFoundError,
    RateLimitError,
    RetryNotice,
    ServerError,
    StreamError,
    StreamInterrupted,
    TimeoutError,
    UnprocessableError,
)
from nscale_jupyter._exceptions import parse_error_body
from nscale_jupyter._retry import backoff_delay, retry_after, should_retry

from .helpers import REQUEST
from .streams import Recorder, choice, chunk, role, sse, stream_response, text_chunks


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(client_module.asyncio, "sleep", fake_sleep)
    return slept


def run(recorder: Recorder, *, stream: bool = True, **kw: Any) -> Any:
    notices: list[RetryNotice] = []

    async def go() -> Any:
        async with AsyncClient(
            "sk-test",
            base_url="https://api.test/v1",
            transport=recorder.transport(),
            on_retry=notices.append,
            **kw,
        ) as client:
            return await client.chat(REQUEST.replace(stream=stream))

    result = asyncio.run(go())
    return result, notices


def error(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, str | bytes):
        return httpx.Response(status, content=body, headers=headers or {})
    return httpx.Response(status, json=body, headers=headers or {})


# -- in-stream errors (14) ------------------------------------------------------
@pytest.mark.parametrize("inner_object", [False, True])
def test_in_stream_error_first_event(inner_object: bool) -> None:
    err: dict[str, Any] = {
        "message": "boom",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    if inner_object:
        err["object"] = "error"
    rec = Recorder(stream_response(sse([{"error": err}])))
    with pytest.raises(InStreamError) as info:
        run(rec)
    assert info.value.message == "boom" and info.value.code == 400
    assert info.value.partial is not None and info.value.partial.text == ""


def test_in_stream_error_after_partial_text_keeps_it() -> None:
    err = {"error": {"message": "engine died", "type": "InternalServerError", "code": 500}}
    rec = Recorder(stream_response(sse([chunk(role()), chunk(choice(content="Half a ")), err])))
    with pytest.raises(InStreamError) as info:
        run(rec)
    partial = info.value.partial
    assert partial is not None and partial.text == "Half a " and partial.truncated
    assert partial.error == "engine died"
    assert len(rec.requests) == 1  # not retried


def test_event_error_line_from_proxy() -> None:
    body = b'event: error\ndata: {"message": "proxy says no"}\n\n'
    with pytest.raises(InStreamError, match="proxy says no"):
        run(Recorder(stream_response(body)))


# -- HTTP errors (15) -------------------------------------------------------------
@pytest.mark.parametrize(("status", "body", "cls", "message"), [
    (404, {"error": {"message": "The model `foo` does not exist.", "type": "NotFoundError",
                     "param": "model", "code": 404}}, NotFoundError,
     "The model `foo` does not exist."),
    (404, {"object": "error", "message": "nope", "type": "NotFoundError", "param": None,
           "code": 404}, NotFoundError, "nope"),
    (401, {"error": "Unauthorized"}, AuthenticationError, "Unauthorized"),
    (403, {"detail": "Forbidden"}, AuthenticationError, "Forbidden"),
    (400, {"error": {"message": "1 validation error: x", "type": "Bad Request", "code": 400}},
     BadRequestError, "1 validation error: x"),
    (422, {"detail": [{"loc": ["body"], "msg": "bad"}]}, UnprocessableError, "bad"),
    (500, "Internal Server Error", ServerError, "Internal Server Error"),
    (501, {"error": {"message": "not implemented", "code": 501}}, ServerError, "not implemented"),
    (418, "teapot", APIError, "teapot"),
])  # fmt: skip
@pytest.mark.parametrize("stream", [True, False])
def test_http_error_shapes(status: int, body: Any, cls: type, message: str, stream: bool) -> None:
    rec = Recorder(error(status, body))
    with pytest.raises(cls) as info:
        run(rec, stream=stream)
    assert message in info.value.message
    assert info.value.status_code == status
    assert len(rec.requests) == 1


def test_html_502_page_becomes_a_short_message() -> None:
    html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000
    rec = Recorder(*[error(502, html)] * 3)
    with pytest.raises(ServerError) as info:
        run(rec)
    assert info.value.message == "502 Bad Gateway"
    assert len(rec.requests) == 3  # retried twice, then gave up


def test_authentication_error_says_how_to_set_the_key() -> None:
    with pytest.raises(AuthenticationError) as info:
        run(Recorder(error(401, {"error": "Unauthorized"})))
    assert "NSCALE_API_KEY" in str(info.value)


def test_parse_error_body_codes() -> None:
    assert (
        parse_error_body(b'{"error": {"message": "m", "code": "rate_limit"}}')[3] == "rate_limit"
    )
    assert parse_error_body(b'{"error": {"message": "m", "code": null}}')[3] is None
    assert parse_error_body(b"")[1] == "(empty response)"


# -- retries (16) -------------------------------------------------------------------
def test_429_then_success_is_retried_and_reported(no_sleep: list[float]) -> None:
    rec = Recorder(
        error(429, {"error": {"message": "slow down"}}, {"Retry-After": "2"}),
        stream_response(sse(text_chunks(["ok"]))),
    )
    result, notices = run(rec)
    assert result.text == "ok"
    assert no_sleep == [2.0]
    assert notices == [RetryNotice(1, 2, 2.0, "429 slow down")]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_then_success(status: int, no_sleep: list[float]) -> None:
    rec = Recorder(error(status, "busy"), stream_response(sse(text_chunks(["ok"]))))
    result, notices = run(rec)
    assert result.text == "ok" and len(notices) == 1
    assert 0.375 <= no_sleep[0] <= 0.5  # 0.5 s less up to 25% jitter


def test_retry_after_ms_and_http_date(no_sleep: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    rec = Recorder(
        error(429, "a", {"retry-after-ms": "250"}),
        error(429, "b", {"Retry-After": when}),
        stream_response(sse(text_chunks(["ok"]))),
    )
    result, _ = run(rec)
    assert result.text == "ok"
    assert no_sleep[0] == 0.25 and 25 < no_sleep[1] <= 30


def test_long_retry_after_is_not_retried() -> None:
    rec = Recorder(error(429, {"error": {"message": "later"}}, {"Retry-After": "600"}))
    with pytest.raises(RateLimitError) as info:
        run(rec)
    assert info.value.retry_after == 600.0 and len(rec.requests) == 1


def test_insufficient_credit_is_not_retried() -> None:
    rec = Recorder(error(429, {"error": {"message": "Insufficient credit"}}))
    with pytest.raises(RateLimitError) as info:
        run(rec)
    assert info.value.insufficient_credit and len(rec.requests) == 1


def test_retries_are_bounded() -> None:
    rec = Recorder(*[error(503, "down")] * 5)
    with pytest.raises(ServerError):
        run(rec, max_retries=3)
    assert len(rec.requests) == 4


def test_x_should_retry_header_wins() -> None:
    assert should_retry(500, {"x-should-retry": "true"})
    assert not should_retry(503, {"x-should-retry": "false"})
    assert not should_retry(500, {}) and not should_retry(400, {})


def test_backoff_grows_and_is_capped() -> None:
    assert 0.375 <= backoff_delay(0) <= 0.5
    assert 6.0 <= backoff_delay(10) <= 8.0
    assert backoff_delay(0, {"Retry-After": "3"}) == 3.0
    assert retry_after({"Retry-After": "soon"}) is None


def test_connect_error_retried_then_raised() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rec = Recorder(refuse, refuse, refuse)
    with pytest.raises(ConnectError) as info:
        run(rec)
    assert len(rec.requests) == 3
    assert "could not connect" in str(info.value)


def test_read_timeout_is_a_timeout_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TimeoutError):
        run(Recorder(slow))


# -- broken streams -----------------------------------------------------------------
def test_connection_dropped_mid_stream_keeps_partial() -> None:
    body = sse(text_chunks(["Hello ", "wor"]), done=False)[:-30]
    rec = Recorder(stream_response(body, error=httpx.RemoteProtocolError("peer closed")))
    with pytest.raises(StreamInterrupted) as info:
        run(rec)
    partial = info.value.partial
    assert partial is not None and partial.text.startswith("Hello")
    assert partial.truncated
    assert len(rec.requests) == 1  # never retried after the first event


def test_malformed_chunk_raises_with_partial() -> None:
    body = sse([chunk(choice(content="ok so far")), "{not json"])
    with pytest.raises(StreamError) as info:
        run(Recorder(stream_response(body)))
    assert "malformed" in str(info.value)
    assert info.value.partial is not None and info.value.partial.text == "ok so far"


def test_error_json_for_a_stream_request_is_an_api_error() -> None:
    rec = Recorder(error(400, {"error": {"message": "prompt too long", "code": 400}}))
    with pytest.raises(BadRequestError, match="prompt too long"):
        run(rec, stream=True)


def test_streaming_status_201_is_accepted() -> None:
    result, _ = run(Recorder(stream_response(sse(text_chunks(["ok"])), status=201)))
    assert result.text == "ok"


def test_abandoned_stream_closes_the_connection() -> None:
    closed: list[bool] = []

    class Tracked(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[override]
            for piece in [sse([chunk(choice(content="a"))], done=False)] * 100:
                yield piece

        async def aclose(self) -> None:
            closed.append(True)

    async def go() -> None:
        transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=Tracked()))
        async with AsyncClient("k", base_url="https://api.test/v1", transport=transport) as c:
            async with c.stream(REQUEST) as s:
                async for _ in s:
                    break
            assert s.partial().text == "a" and s.partial().truncated

    asyncio.run(go())
    assert closed


def test_gzip_encoded_stream_and_preread_body() -> None:
    import gzip

    body = sse(text_chunks(["zipped ", "stream"]))
    zipped = httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "content-encoding": "gzip"},
        content=gzip.compress(body),
    )
    result, _ = run(Recorder(zipped))
    assert result.text == "zipped stream"
    preread = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    result, _ = run(Recorder(preread))
    assert result.text == "zipped stream"
