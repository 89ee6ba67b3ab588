"""A real IPython shell with the extension loaded, the client on a MockTransport."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

import nscale_jupyter._api as api
from nscale_jupyter._session import Session
from tests.core.streams import Recorder, sse, stream_response, text_chunks

KEY = "sk-SENTINEL-magics-7f3a"


def ipython_shell() -> InteractiveShell:
    """IPython's own test shell (started once per process)."""
    from IPython.terminal.interactiveshell import TerminalInteractiveShell
    from IPython.testing import globalipapp

    if not TerminalInteractiveShell.initialized():
        globalipapp.start_ipython()
    return TerminalInteractiveShell.instance()


def reply(*pieces: str) -> Any:
    return lambda request: stream_response(sse(text_chunks(list(pieces))))


class Server:
    """Scripted replies; by default every request gets "Hello!"."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.default = reply("Hel", "lo!")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.recorder.requests.append(request)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "only-model"}]})
        handler = self.recorder.responses.pop(0) if self.recorder.responses else self.default
        return handler(request) if callable(handler) else handler

    def script(self, *responses: Any) -> None:
        self.recorder.responses.extend(responses)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [b for b in self.recorder.bodies if "messages" in b]

    @property
    def last(self) -> dict[str, Any]:
        return self.bodies[-1]


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def ip(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("NSCALE_BASE_URL", "https://api.test/v1")
    shell = ipython_shell()
    api.set_default_session(Session(api_key=KEY, transport=httpx.MockTransport(server)))
    shell.run_line_magic("load_ext", "nscale_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
    shell.user_ns.pop("_", None)
    shell.config.pop("ChatSettings", None)  # %config of one test must not reach the next
