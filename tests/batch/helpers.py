"""A loopback server for batches: whole JSON replies, rate limits and failures by prompt."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from nscale_jupyter._session import Session
from tests.servers.fault_server import FaultServer, Received, Reply

KEY = "sk-SENTINEL-batch-91c2"


def completion(text: str, model: str = "fake") -> Reply:
    body = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    return Reply(body=json.dumps(body).encode(), headers={"content-type": "application/json"})


def error(status: int, message: str, **headers: str) -> Reply:
    body = json.dumps({"error": {"message": message, "type": "x", "code": status}}).encode()
    return Reply(status=status, body=body, headers={"content-type": "application/json", **headers})


def prompt_of(received: Received) -> str:
    return str(received.json["messages"][-1]["content"])


class Echo:
    """Answers ``<prompt>``; ``rule(prompt, attempt)`` may answer otherwise."""

    def __init__(self, rule: Callable[[str, int], Reply | None] | None = None) -> None:
        self.rule = rule
        self.attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, received: Received) -> Reply:
        prompt = prompt_of(received)
        with self._lock:
            attempt = self.attempts[prompt] = self.attempts.get(prompt, 0) + 1
        special = self.rule(prompt, attempt) if self.rule is not None else None
        if special is not None:
            return special
        reply = completion(f"<{prompt}>")
        reply.delay = 0.005
        return reply


def session_for(srv: FaultServer) -> Session:
    session = Session(api_key=KEY)
    session.settings.base_url = srv.base_url
    return session


def chats(srv: FaultServer) -> list[Any]:
    return [r for r in srv.requests if r.path.endswith("/chat/completions")]


class Gated:
    """Answers ``<prompt>`` once the gate opens: a request to ``.../open`` opens it.

    A notebook can then see a batch still running, whatever the timing, and
    let it finish from a later cell (``urllib.request.urlopen(base_url + "/open")``).
    """

    def __init__(self) -> None:
        self.gate = threading.Event()

    def __call__(self, received: Received) -> Reply:
        if received.path.endswith("/open"):
            self.gate.set()
            return Reply(body=b"{}")
        reply = completion(f"<{prompt_of(received)}>")
        reply.gate = self.gate
        return reply
