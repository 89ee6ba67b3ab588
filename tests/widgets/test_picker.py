"""``%%chat --branch``: under a cell's reply, clicking an alternative branches there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._session import Session
from tests.magics.conftest import ipython_shell
from tests.widgets.test_whatif import KEY, Server

WIDGET = "application/vnd.jupyter.widget-view+json"


class Plain(Server):
    """Logprobs only when asked for them."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if self.bodies and not self.bodies[-1].get("logprobs") and "choices" in response.json():
            data = response.json()
            data["choices"][0]["logprobs"] = None
            return httpx.Response(200, json=data)
        return response


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, Server]]:
    monkeypatch.setenv("NSCALE_BASE_URL", "https://picker.test/v1")
    server = Plain()
    ip = ipython_shell()
    api.set_default_session(Session(api_key=KEY, transport=httpx.MockTransport(server)))
    ip.run_line_magic("load_ext", "nscale_jupyter")
    yield ip, server
    ip.run_line_magic("unload_ext", "nscale_jupyter")
    ip.user_ns.pop("_", None)


def test_clicking_an_alternative_branches_there(shell: Any) -> None:
    from ipywidgets.widgets.widget import _instances

    from nscale_jupyter.widgets._picker import BranchPicker

    ip, server = shell
    created: list[BranchPicker] = []
    original = BranchPicker.__init__

    def track(self: BranchPicker, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        created.append(self)

    BranchPicker.__init__ = track  # type: ignore[method-assign]
    try:
        with capture_output() as shown:
            ip.run_cell_magic("chat", "--no-stream --logprobs --top-logprobs 3 --branch", "hi")
    finally:
        BranchPicker.__init__ = original  # type: ignore[method-assign]
    (picker,) = created
    (static,) = [
        o.data["text/plain"] for o in shown.outputs if len(o.data) == 2 and WIDGET in o.data
    ]
    assert static.startswith("branch picker:")  # not VBox(...) where widgets cannot show
    assert picker.position.value == 1  # the least sure token: " <b>cat" (0.41 vs 0.37)
    labels = [b.description for b in picker.buttons.children]
    assert len(labels) == 3 and "cat" in labels[0] and "dog" in labels[1] and "fox" in labels[2]
    requests = server.requests
    picker.buttons.children[1].click()  # " dog" instead of " <b>cat"
    assert server.requests == requests + 1 and picker.branches == 1
    sent = server.bodies[-1]
    assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
    assert sent["messages"][-1] == {"role": "assistant", "content": "The dog"}
    assert "&lt;b&gt;cat" in picker.view.value and "<b>cat" not in picker.view.value
    states = [str(m.get_state()) for m in list(_instances.values())]
    assert all(KEY not in s for s in states)


def test_branch_without_alternatives_is_one_line(shell: Any) -> None:
    ip, _ = shell
    with capture_output() as cap:
        ip.run_cell_magic("chat", "--no-stream --branch", "hi")
    assert "--branch: no alternatives" in cap.stderr and "Traceback" not in cap.stderr
