"""The panel's what-if: sliders redraw the filters view with no request; branch and sample do."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from nscale_jupyter._session import Session
from tests.core.test_branching import TOKENS, response
from tests.widgets.test_panel import make_panel, wait_for

KEY = "sk-SENTINEL-whatif-5e6f"


class Server:
    """Counts every request; a reply with logprobs, and a continuation for a branch."""

    def __init__(self) -> None:
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "m"}]})
        body = json.loads(request.content)
        self.bodies.append(body)
        if body.get("continue_final_message"):
            return httpx.Response(200, json=response([(" away", [(" away", -0.2)])], " away"))
        return httpx.Response(200, json=response(TOKENS, "The <b>cat sat"))


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def session(server: Server) -> Any:
    s = Session(api_key=KEY, transport=httpx.MockTransport(server))
    s.settings.base_url = "https://whatif.test/v1"
    s.settings.stream = False
    yield s
    s.close()


def test_top_k_and_min_p_are_panel_controls(session: Session) -> None:
    panel = make_panel(session)
    assert {"temperature", "top_p", "top_k", "min_p"} <= set(panel.controls)
    assert panel.controls["top_k"].value.min == -1
    assert panel.whatif.box.layout.display == "none"  # no reply yet


def test_sliders_redraw_with_no_request(session: Session, server: Server) -> None:
    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "Once"
        session.settings.update_options({"logprobs": True, "top_logprobs": 3})
        await panel.run()
        whatif = panel.whatif
        assert whatif.box.layout.display == "" and whatif.position.value == 1  # least sure
        assert whatif.redraws == 1  # drawn once for the new reply
        static = panel.snapshot()["text/markdown"]  # the panel with no widgets: plot and note
        assert "nscale-whatif-snapshot" in static and "src='data:image/png;base64," in static
        assert "sample from" in static
        whatif.position.value = 0  # another position: its alternatives and a new image
        assert [label for label, _ in whatif.alternative.options] == ["The (90.5%)", "A (8.2%)"]
        whatif.position.value = 1
        labels = [label for label, _ in whatif.alternative.options]
        assert labels == [" <b>cat (40.7%)", " dog (36.8%)", " fox (13.5%)"]
        before, images = server.requests, [bytes(whatif.image.value)]
        controls = panel.controls
        for name, value in [("temperature", 1.6), ("top_p", 0.5), ("top_k", 1), ("min_p", 0.9)]:
            controls[name].value.value = value
            images.append(bytes(whatif.image.value))
        for value in (0.3, 0.7, 1.2):
            controls["temperature"].value.value = value
            images.append(bytes(whatif.image.value))
        assert server.requests == before  # nothing was sent while the sliders moved
        assert len(set(images)) == len(images)  # each move redrew the image
        assert images[0][:8] == b"\x89PNG\r\n\x1a\n"
        assert whatif.redraws >= len(images)
        assert "sample from 1 of 3" in whatif.note.value  # top_k = 1
        # Branch with the runner-up at the least sure position: one continuation request.
        whatif.branch.click()
        await wait_for(lambda: "nscale-branch" in whatif.branch_view.value)
        assert server.bodies[-1]["messages"][-1] == {"role": "assistant", "content": "The dog"}
        assert "&lt;b&gt;cat" in whatif.branch_view.value
        # "sample" runs for real, with the knobs as set.
        sent = len(server.bodies)
        whatif.sample.click()
        await wait_for(lambda: len(server.bodies) == sent + 1 and panel.task is not None
                       and panel.task.done())  # fmt: skip
        assert server.bodies[-1]["top_k"] == 1 and server.bodies[-1]["min_p"] == 0.9

    asyncio.run(scenario())


def test_a_reply_without_logprobs_hides_the_what_if(session: Session) -> None:
    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "Once"
        session.settings.update_options({"logprobs": True, "top_logprobs": 3})
        await panel.run()
        assert panel.whatif.box.layout.display == ""
        panel.whatif.show(None)
        assert panel.whatif.box.layout.display == "none" and panel.whatif.plot is None
        assert panel.whatif.static_html() == ""
        assert "nscale-whatif-snapshot" not in panel.snapshot()["text/markdown"]

    asyncio.run(scenario())
