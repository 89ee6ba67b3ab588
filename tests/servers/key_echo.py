"""A FaultServer responder that repeats the caller's API key in every shape it can.

The key is read from the request's own ``Authorization`` header, so the server
really echoes what the client sent. The prompt picks the shape:

- ``401``: an OpenAI-style "Incorrect API key provided: <key>" body;
- ``500``: a body quoting the ``Authorization`` header (``Bearer <key>``);
- ``html``: a 503 HTML error page with the key in its title (retried, then raised);
- ``escaped``: a 400 whose JSON hides the key behind ``\\u`` escapes;
- ``header``: a 400 whose headers repeat the key (httpcore logs headers at DEBUG);
- ``instream``: an ``{"error": ...}`` event with ``Bearer <key>`` after some text;
- ``stream``: a streamed reply whose content and reasoning repeat the key, split
  across chunks (and a header repeating it);
- ``tools``: a tool call whose arguments carry the key, split across chunks;
- ``full``: a non-streamed reply (``stream: false``) repeating the key.

Shared by the client test (tests/core), the shell test (tests/magics) and the
kernel test (tests/e2e).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.core import streams

from .fault_server import Received, Reply, sse_events

__all__ = ["ERRORS", "REPLIES", "leaks", "respond", "split_every"]

#: Prompts that end in an error, and those that end with a reply.
ERRORS = ("401", "500", "html", "escaped", "header", "instream")
REPLIES = ("stream", "tools", "full")


def split_every(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _chunk(finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return streams.chunk(streams.choice(finish_reason=finish, **delta), model="fake")


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def respond(received: Received) -> Reply:
    auth = received.headers.get("authorization", "")
    assert auth.startswith("Bearer "), "the client sent no key"
    key = auth[len("Bearer ") :]
    messages = (received.json or {}).get("messages") or [{}]
    prompt = str(messages[-1].get("content") or "").strip()
    if prompt == "401":
        message = f"Incorrect API key provided: {key}. You can find your API key in the console."
        error = {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}
        return Reply(status=401, body=_json({"error": error}))
    if prompt == "500":
        message = f"internal error while handling headers {{'authorization': '{auth}'}}"
        return Reply(status=500, body=_json({"error": {"message": message, "type": "server"}}))
    if prompt == "html":
        page = (
            f"<!DOCTYPE html><html><head><title>503 Service Unavailable ({auth})</title>"
            f"</head><body><h1>Upstream refused {key}</h1><p>{auth}</p></body></html>"
        )
        headers = {"content-type": "text/html", "retry-after": "0"}
        return Reply(status=503, headers=headers, body=page.encode())
    if prompt == "escaped":
        hidden = "".join(f"\\u{ord(c):04x}" for c in key)
        body = b'{"error": {"message": "the key \\"' + hidden.encode() + b'\\" is revoked"}}'
        return Reply(status=400, body=body)
    if prompt == "header":
        headers = {"x-echo-authorization": auth, "www-authenticate": f'Bearer key="{key}"'}
        return Reply(status=400, headers=headers, body=_json({"error": {"message": "denied"}}))
    if prompt == "instream":
        events = [_chunk(content="Partial answer. ")]
        events.append({"error": {"message": f"upstream rejected {auth}", "type": "auth"}})
        return Reply(events=sse_events(events, done=False))
    if prompt == "stream":
        content = f"Your key is {key}, and again: {auth}. Done."
        reasoning = f"thinking about {auth} now"
        start = content.index(key)
        cuts = [start + 1, start + 3, start + 10, len(content) - 12, *range(0, len(content), 7)]
        events = [_chunk(reasoning=p) for p in split_every(reasoning, [9, 17, 22, 30])]
        events += [_chunk(content=p) for p in split_every(content, cuts)]
        events.append(_chunk("stop"))
        return Reply(headers={"x-echo": auth}, events=sse_events(events))
    if prompt == "tools":
        arguments = json.dumps({"path": "/tmp/x", "token": key})
        pieces = split_every(arguments, list(range(3, len(arguments), 6)))
        first = {"index": 0, "id": "call_1", "type": "function"}
        calls = [
            {**first, "function": {"name": "lookup", "arguments": pieces[0]}},
            *({"index": 0, "function": {"arguments": p}} for p in pieces[1:]),
        ]
        events = [_chunk(tool_calls=[c]) for c in calls] + [_chunk("tool_calls")]
        return Reply(events=sse_events(events))
    if prompt == "full":
        message = {"role": "assistant", "content": f"Here it is: {key} ({auth})"}
        body = {
            "id": "chatcmpl-full",
            "object": "chat.completion",
            "created": 1735689600,
            "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
        }
        return Reply(body=_json(body), headers={"x-echo": auth})
    return Reply(events=sse_events([_chunk(content="ok"), _chunk("stop")]))


def leaks(key: str, text: str, run: int = 8) -> list[str]:
    """Runs of ``run`` or more characters of ``key`` found in ``text``."""
    found = {key[i : i + run] for i in range(len(key) - run + 1)}
    return sorted(r for r in found if r in text)
