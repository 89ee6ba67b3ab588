"""The sampling panel with real ipywidgets objects; the client on MockTransport."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from nscale_jupyter._session import Session
from tests.core.streams import Body, SlowServer, sse, text_chunks

KEY = "sk-SENTINEL-panel-91c2"


class Server:
    """Replies echo the temperature; a reply can be made slow (to be cancelled)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.cancelled = 0
        self.delay = 0.0
        self.models: Any = [{"id": "m"}]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            if self.models is None:
                return httpx.Response(503, text="down")
            return httpx.Response(200, json={"data": self.models})
        body = json.loads(request.content)
        self.bodies.append(body)
        server, delay = self, self.delay

        class Slow(httpx.AsyncByteStream):
            async def __aiter__(self):  # type: ignore[override]
                try:
                    await asyncio.sleep(delay)
                    yield sse(text_chunks([f"t={body.get('temperature')}"]))
                except asyncio.CancelledError:
                    server.cancelled += 1
                    raise

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Slow())


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def session(server: Server) -> Any:
    s = Session(api_key=KEY, transport=httpx.MockTransport(server))
    s.settings.base_url = "https://panel.test/v1"
    yield s
    s.close()


def make_panel(session: Session, **kw: Any) -> Any:
    from nscale_jupyter.widgets._panel import Panel

    return Panel(session, **kw)


def wait_for(condition: Any, loops: int = 500) -> Any:
    """Poll ``condition`` on the running loop (generous: no timing is asserted)."""

    async def poll() -> None:
        for _ in range(loops):
            if condition():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("condition not reached")

    return poll()


def test_controls_and_settings_agree_both_ways(session: Session) -> None:
    panel = make_panel(session)
    t = panel.controls["temperature"]
    assert not t.enabled.value  # unset
    session.settings.temperature = 0.7  # as %chat set or %config would
    assert t.enabled.value and t.value.value == pytest.approx(0.7)
    t.value.value = 1.3
    assert session.settings.temperature == pytest.approx(1.3)
    t.enabled.value = False
    assert session.settings.temperature is None
    panel.controls["stop"].enabled.value = True
    panel.controls["stop"].value.value = "END, ###"
    assert session.settings.stop == ["END", "###"]
    panel.controls["seed"].enabled.value = True
    panel.controls["seed"].value.value = 42
    assert session.settings.seed == 42
    session.settings.update_options({"max_tokens": 77})
    assert panel.controls["max_tokens"].value.value == 77
    # Opening the panel lists the models without choosing one: the server's only model is used.
    assert panel.model.value == "" and session.settings.model is None
    assert panel.model.options[0] == ("(server's: m)", "")
    panel.reset.click()
    assert session.settings.seed is None and session.settings.max_tokens == 1024


def test_every_panel_option_has_a_control_with_help(session: Session) -> None:
    from nscale_jupyter._options import OPTIONS

    panel = make_panel(session)
    for opt in OPTIONS:
        if opt.panel:
            assert opt.name in panel.controls
            assert opt.help in panel.controls[opt.name].label.tooltip


def test_unreachable_server_is_a_clear_message(session: Session, server: Server) -> None:
    server.models = None
    panel = make_panel(session)
    assert "cannot list models" in panel.status.value and "503" in panel.status.value


def test_live_mode_debounces_and_cancels(session: Session, server: Server) -> None:
    async def scenario() -> None:
        panel = make_panel(session, debounce=0.05)
        panel.prompt.value = "Tell me a story."
        panel.live.value = True
        server.delay = 60.0
        for value in (0.2, 0.4, 0.6):  # quick changes (no await between): one run
            panel.controls["temperature"].value.value = value
        await wait_for(lambda: len(server.bodies) == 1)
        assert panel.runs == 1 and server.bodies[0]["temperature"] == pytest.approx(0.6)
        server.delay = 0.0
        panel.controls["temperature"].value.value = 1.0  # the slow reply is cancelled
        await wait_for(lambda: panel.task is not None and panel.task.done() and panel.runs == 2)
        await wait_for(lambda: server.cancelled == 1)  # the transport saw it cancelled
        assert "t=1.0" in panel.reply_markup and "t=0.6" not in panel.reply_markup
        assert [b["temperature"] for b in server.bodies] == [0.6, 1.0]
        assert session.thread().messages == []  # live runs leave history alone
        panel.keep.click()
        assert [m.role for m in session.thread().messages] == ["user", "assistant"]

    asyncio.run(scenario())


def test_compare_tab(session: Session, server: Server) -> None:
    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "hi"
        panel.compare_spec.value = "temperature=0,1"
        await panel.compare()
        view = panel.compare_view.value
        assert view.index("temperature = 0.0") < view.index("temperature = 1.0")
        assert "t=1.0" in view

    asyncio.run(scenario())


def test_widget_state_never_holds_the_key(session: Session) -> None:
    panel = make_panel(session)
    panel.prompt.value = "x"
    states = []
    stack = [panel.widget]
    while stack:
        widget = stack.pop()
        states.append(json.dumps(widget.get_state(), default=str))
        stack.extend(getattr(widget, "children", ()))
    assert len(states) > 20
    assert all(KEY not in s for s in states)


def test_panel_and_ipywidgets_load_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import nscale_jupyter, sys; from IPython.core.interactiveshell import "
        "InteractiveShell; InteractiveShell.instance().run_line_magic('load_ext', "
        "'nscale_jupyter'); print('ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_live_reply_shows_heatmap_and_tool_cards(session: Session, server: Server) -> None:
    from tests.core.streams import choice, chunk, role

    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "hi"
        session.settings.update_options({"logprobs": True, "top_logprobs": 2})
        lp = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}
        stream = sse(
            [
                chunk(role()),
                chunk(choice(content="Hi", logprobs={"content": [lp]})),
                chunk(
                    choice(
                        tool_calls=[
                            {
                                "id": "t1",
                                "type": "function",
                                "index": 0,
                                "function": {"name": "get_weather", "arguments": "{}"},
                            }
                        ],
                        finish_reason="tool_calls",
                    )
                ),
            ]
        )

        async def reply(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/models"):
                return httpx.Response(200, json={"data": [{"id": "m"}]})
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, stream=Body([stream])
            )

        session._transport = httpx.MockTransport(reply)
        session.settings.base_url = "https://panel2.test/v1"
        await panel.run()
        html = panel.reply_markup
        assert "Hi" in html and "nscale-heatmap" in html and "nscale-toolcard" in html

    asyncio.run(scenario())


def test_rerunning_the_last_prompt_resends_the_history_before_it(
    session: Session, server: Server
) -> None:
    from nscale_jupyter._types import ChatRequest, Message

    thread = session.thread()
    first = [Message.user("Hi."), Message.assistant("Hello.")]
    last = [Message.user("Tell me a story."), Message.assistant("Once upon a time.")]
    thread.record([*first, *last])  # as two %%chat cells would
    session.last_request = ChatRequest(messages=(last[0],))  # as the last %%chat sent

    async def scenario() -> None:
        panel = make_panel(session)
        assert panel.prompt.value == "Tell me a story."
        session.settings.temperature = 0.5
        await panel.run()
        sent = [(m["role"], m["content"]) for m in server.bodies[-1]["messages"]]
        assert sent == [("user", "Hi."), ("assistant", "Hello."), ("user", "Tell me a story.")]
        assert thread.messages == [*first, *last]  # untouched by the run
        panel.keep.click()  # the kept reply replaces the turn it re-ran
        assert thread.messages[:3] == [*first, last[0]] and len(thread.messages) == 4
        assert thread.messages[3].content == "t=0.5"
        panel.keep.click()  # keeping twice changes nothing
        assert len(thread.messages) == 4
        panel.prompt.value = "And then?"  # a new prompt follows the thread
        await panel.run()
        assert [m["content"] for m in server.bodies[-1]["messages"]][-2:] == ["t=0.5", "And then?"]
        panel.keep.click()
        assert [m.content for m in thread.messages][-2:] == ["And then?", "t=0.5"]

    asyncio.run(scenario())


def test_the_system_box_is_sent_and_shared_with_the_settings(
    session: Session, server: Server
) -> None:
    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "hi"
        panel.system.value = "Be brief."
        assert session.settings.system == "Be brief."
        await panel.run()
        assert server.bodies[-1]["messages"][0] == {"role": "system", "content": "Be brief."}
        session.settings.system = None
        assert panel.system.value == ""

    asyncio.run(scenario())


def test_readout_says_what_is_sent(session: Session) -> None:
    panel = make_panel(session)
    session.settings.reset()
    assert "max_tokens=1024" in panel.readout.value
    session.settings.update_options({"max_tokens": None, "model": None})
    assert "nothing set" in panel.readout.value
    panel.controls["stop"].value.value = "<END>"
    assert "stop=" in panel.readout.value and "&lt;END&gt;" in panel.readout.value


def test_compare_tab_bounds_concurrency_and_compares_models(session: Session) -> None:
    slow = SlowServer(
        lambda body: f"{body['model']} t={body.get('temperature')} <i>x</i>", models=("a", "b")
    )
    bodies = slow.bodies

    session._transport = httpx.MockTransport(slow)
    session.settings.base_url = "https://compare-tab.test/v1"

    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "hi"
        panel.model.value = "a"  # two models listed: the user picks one
        assert session.settings.model == "a"
        panel.concurrency.value = 2
        panel.compare_spec.value = "temperature=0,0.5,1,1.5,2"
        panel.compare_button.click()
        await wait_for(lambda: "t=2.0" in panel.compare_view.value)
        assert slow.peak == 2 and len(bodies) == 5
        assert "&lt;i&gt;x&lt;/i&gt;" in panel.compare_view.value
        bodies.clear()
        panel.compare_spec.value = "model=a,b"
        await panel.compare()
        assert sorted(b["model"] for b in bodies) == ["a", "b"]
        view = panel.compare_view.value
        assert view.index("model = &#x27;a&#x27;") < view.index("model = &#x27;b&#x27;")
        panel.compare_spec.value = "temperature=0,9"
        await panel.compare()
        assert "out of range" in panel.compare_view.value

    asyncio.run(scenario())


def test_a_live_run_does_not_cancel_a_compare(session: Session, server: Server) -> None:
    async def scenario() -> None:
        panel = make_panel(session, debounce=0.01)
        panel.prompt.value = "hi"
        panel.compare_spec.value = "temperature=0,1"
        server.delay = 0.2
        panel.start_compare()
        panel.live.value = True
        session.settings.temperature = 0.3  # a live run starts while the compare runs
        await wait_for(lambda: "t=1.0" in panel.compare_view.value)
        await wait_for(lambda: panel.task is not None and panel.task.done())
        assert server.cancelled == 0 and "t=0.3" in panel.reply_markup

    asyncio.run(scenario())


def test_no_widget_anywhere_holds_the_key(session: Session, server: Server) -> None:
    from ipywidgets.widgets.widget import _instances

    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "x"
        await panel.run()
        panel.compare_spec.value = "temperature=0,1"
        await panel.compare()
        assert "t=1.0" in panel.compare_view.value

    asyncio.run(scenario())
    states = [json.dumps(widget.get_state(), default=str) for widget in list(_instances.values())]
    assert len(states) > 40  # layouts and styles too
    assert all(KEY not in s for s in states)


def test_a_panel_reply_carries_its_provenance_like_a_cell(session: Session) -> None:
    async def scenario() -> None:
        panel = make_panel(session)
        panel.prompt.value = "hi"
        session.settings.temperature = 0.4
        await panel.run()
        (first, *_) = panel.reply.outputs
        made = first["metadata"]["nscale"]
        assert made["model"] == "m" and made["options"]["temperature"] == 0.4
        assert panel.last is not None and panel.last.provenance is not None
        assert made == panel.last.provenance.to_json()

    asyncio.run(scenario())


def test_the_panel_keeps_a_static_snapshot_beside_its_view(session: Session) -> None:
    """With no widget manager (a static page), the snapshot shows the settings and reply."""
    from IPython.utils.capture import capture_output

    from tests.magics.conftest import ipython_shell

    ipython_shell()

    async def scenario() -> tuple[Any, list[Any]]:
        with capture_output() as shown:
            panel = make_panel(session)
            panel.show()
            panel.prompt.value = "<script>hi</script>"
            session.settings.temperature = 0.5
            await panel.run()
        return panel, shown.outputs

    panel, outputs = asyncio.run(scenario())
    session.settings.temperature = 0.9  # later: the snapshot keeps what the reply was asked with
    panel.prompt.value = "another"
    view, *snapshots = [o.data for o in outputs]
    assert "application/vnd.jupyter.widget-view+json" in view
    assert view["text/plain"].startswith("nscale panel:") and "VBox(" not in view["text/plain"]
    last = snapshots[-1]
    assert len(snapshots) == 2  # shown, then updated when the reply came
    again = panel.snapshot()["text/plain"]
    assert "options: temperature=0.5" in again and "prompt: <script>hi</script>" in again
    assert "t=0.5" in last["text/markdown"] and "t=0.5" in last["text/plain"]
    assert "options: temperature=0.5" in last["text/plain"]  # those the reply was asked with
    assert "&lt;script&gt;" in last["text/markdown"] and "<script>" not in last["text/markdown"]
    assert KEY not in json.dumps([o.data for o in outputs])


def test_the_panel_reruns_an_image_prompt_with_its_images(
    session: Session, server: Server
) -> None:
    """A %%chat --image cell, then the panel: the same prompt goes, images and all."""
    from nscale_jupyter._types import ChatRequest, ImagePart, Message
    from tests.servers.conversation import PNG

    thread = session.thread()
    asked = Message.prompt("What is this?", [ImagePart(PNG)])
    thread.record([asked, Message.assistant("A dot.")])
    session.last_request = ChatRequest(messages=(asked,))

    async def scenario() -> None:
        panel = make_panel(session)
        assert panel.prompt.value == "What is this?"
        assert "1 image" in panel.images.label.value
        await panel.run()
        assert server.bodies[-1]["messages"] == [asked.to_json()]  # a rerun: the turn replaced
        panel.images.clear.click()
        await panel.run()
        assert server.bodies[-1]["messages"][-1] == {"role": "user", "content": "What is this?"}

    asyncio.run(scenario())


def test_images_uploaded_to_the_panel_go_with_its_prompt(session: Session, server: Server) -> None:
    import base64

    from tests.servers.conversation import PNG

    data = base64.b64decode(PNG.partition(",")[2])
    upload = {"name": "dot.png", "type": "image/png", "size": len(data),
              "content": memoryview(data), "last_modified": 0}  # fmt: skip

    async def scenario() -> None:
        panel = make_panel(session)
        # As the browser sends it: the file's bytes, its time in ms.
        panel.images.upload.set_state(
            {"value": [upload, {**upload, "name": "notes.txt", "content": b"hi"}]}
        )
        assert "1 image" in panel.images.label.value
        assert "notes.txt" in panel.images.label.value  # named, not sent
        panel.prompt.value = ""
        await panel.run()  # an image alone is a prompt
        assert server.bodies[-1]["messages"][-1]["content"] == [
            {"type": "image_url", "image_url": {"url": PNG}}
        ]
        assert panel.images.upload.value == ()  # taken in, so the same file can come again

    asyncio.run(scenario())
