"""The streaming renderer: coalesced updates, escaping, reasoning, n > 1, terminal mode."""

from __future__ import annotations

import io
from typing import Any

from nscale_jupyter import (
    ChatResult,
    Choice,
    ContentDelta,
    ReasoningDelta,
    RetryNotice,
    StreamDone,
    Timing,
    Usage,
)
from nscale_jupyter.display._escape import safe_markdown
from nscale_jupyter.display._result import result_markdown
from nscale_jupyter.display._stream import ChatRenderer
from tests.html import tags

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


class Screen:
    """Records displays and updates like a notebook front end."""

    def __init__(self) -> None:
        self.displays: list[dict[str, str]] = []
        self.updates = 0

    def display(self, bundle: dict[str, str]) -> Any:
        self.displays.append(bundle)
        index = len(self.displays) - 1
        screen = self

        class Handle:
            def update(self, obj: dict[str, str], raw: bool = True) -> None:
                screen.displays[index] = obj
                screen.updates += 1

        return Handle()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def renderer(**kw: Any) -> tuple[ChatRenderer, Screen, Clock]:
    screen, clock = Screen(), Clock()
    return ChatRenderer(display=screen.display, clock=clock, **kw), screen, clock


def result(text: str = "", **kw: Any) -> ChatResult:
    return ChatResult(
        choices=(Choice(0, text or None, finish_reason="stop"),),
        model="m",
        usage=Usage(3, 10, 13),
        timing=Timing(0.2, 1.2),
        **kw,
    )


def test_updates_are_coalesced_by_time() -> None:
    r, screen, clock = renderer(interval=0.05)
    for i in range(10_000):
        clock.now = i * 0.0001  # 10,000 tokens in one second
        r.feed(ContentDelta(0, "x"))
    r.finish(result("x" * 10_000))
    assert 15 <= screen.updates + 1 <= 25  # ~20 a second, plus the final one
    assert screen.displays[0]["text/markdown"].startswith("x" * 10_000)
    assert r.updates == screen.updates + 1


def test_final_render_has_the_whole_text_and_footer() -> None:
    r, screen, _ = renderer()
    r.feed(ContentDelta(0, "Hello "))
    r.feed(ContentDelta(0, "world"))
    r.finish(result("Hello world"))
    md = screen.displays[0]["text/markdown"]
    assert md.startswith("Hello world")
    assert "m · stop · 3 prompt + 10 completion tokens · first token 0.20 s · 8.3 tok/s" in md
    assert "Hello world" in screen.displays[0]["text/plain"]


def test_model_html_is_escaped_everywhere() -> None:
    r, screen, _ = renderer()
    r.feed(ReasoningDelta(0, HOSTILE))
    r.feed(ContentDelta(0, HOSTILE))
    r.finish(result(HOSTILE))
    md = screen.displays[0]["text/markdown"]
    found = tags(md)
    assert "script" not in found.tags and "img" not in found.tags
    assert "onerror" not in found.attrs
    assert "details" in found.tags  # reasoning is folded
    assert "script" not in tags(result_markdown(result(HOSTILE))).tags


def test_code_blocks_stay_literal() -> None:
    text = "Use `<b>` like this:\n```html\n<b>bold</b>\n```\nthen <i>"
    md = safe_markdown(text)  # code is ours: <code>/<pre><code>, content as entities
    assert "\n<pre><code>&lt;b&gt;bold&lt;/b&gt;&#10;</code></pre>\n" in md
    assert md.startswith("Use <code>&lt;b&gt;</code> like") and md.endswith("then &lt;i>")


def test_reasoning_folded_above_the_answer() -> None:
    r, screen, _ = renderer()
    r.feed(ReasoningDelta(0, "thinking"))
    r.feed(ContentDelta(0, "answer"))
    r.finish(result("answer"))
    md = screen.displays[0]["text/markdown"]
    assert md.index("<details>") < md.index("thinking") < md.index("answer")


def test_n_choices_side_by_side() -> None:
    r, screen, _ = renderer()
    r.feed(ContentDelta(1, "b<script>"))
    r.feed(ContentDelta(0, "a"))
    r.finish(None)
    html = screen.displays[0]["text/html"]
    assert html.index("choice 0") < html.index("choice 1")
    assert "script" not in tags(html).tags


def test_retry_notice_is_shown() -> None:
    r, screen, _ = renderer()
    r.feed(RetryNotice(1, 2, 2.0, "429 slow down"))
    assert "retrying in 2.0 s (1/2): 429 slow down" in screen.displays[0]["text/plain"]


def test_cut_off_is_marked() -> None:
    r, screen, _ = renderer()
    r.feed(ContentDelta(0, "Once"))
    r.finish(result("Once", truncated=True), cut_off="interrupted")
    assert "cut off: interrupted" in screen.displays[0]["text/markdown"]


def test_terminal_prints_progressively() -> None:
    out = io.StringIO()
    r = ChatRenderer(rich=False, out=out)
    r.feed(ReasoningDelta(0, "hmm"))
    r.feed(ContentDelta(0, "Hel"))
    assert out.getvalue() == "[reasoning] hmmHel"
    r.feed(ContentDelta(0, "lo"))
    r.feed(StreamDone(result("Hello")))
    r.finish()
    assert out.getvalue().startswith("[reasoning] hmmHello\n[m · stop")


def test_not_streamed_result_is_rendered() -> None:
    r, screen, _ = renderer()
    r.finish(result("whole"))
    assert screen.displays[0]["text/markdown"].startswith("whole")


def test_tool_calls_show_as_they_stream() -> None:
    from nscale_jupyter import ToolCallDelta

    r, screen, _ = renderer()
    r.feed(ToolCallDelta(0, 0, "t1", "get_weather", ""))
    r.feed(ToolCallDelta(0, 0, None, None, '{"city": "<b>Paris'))
    r.feed(ToolCallDelta(0, 0, None, None, '</b>"}'))
    r.finish(None)
    md = screen.displays[0]["text/markdown"]
    assert "get_weather({&quot;city&quot;: &quot;&lt;b&gt;Paris&lt;/b&gt;&quot;})" in md
    assert tags(md).tags.count("b") == 1  # only our own heading


def test_tick_shows_text_held_back_by_coalescing() -> None:
    r, screen, clock = renderer(interval=0.05)
    r.feed(ContentDelta(0, "Once "))
    clock.now = 0.01
    r.feed(ContentDelta(0, "upon"))  # too soon: held back
    assert screen.displays[0]["text/markdown"] == "Once "
    r.tick()
    assert screen.displays[0]["text/markdown"] == "Once "
    clock.now = 0.2  # the stream stalls; a tick shows what is held back
    r.tick()
    assert screen.displays[0]["text/markdown"] == "Once upon"


def test_every_html_view_is_left_alone_by_mathjax() -> None:
    """JupyterLab typesets $...$ it finds in an HTML output's text: each view opts out."""
    from nscale_jupyter import Message, TokenLogprob, ToolCallDelta
    from nscale_jupyter._compare import Comparison
    from nscale_jupyter.display._compare import compare_bundle
    from nscale_jupyter.display._heatmap import heatmap_html
    from nscale_jupyter.display._toolcard import ToolCardPart
    from nscale_jupyter.display._transcript import transcript_bundle

    math = "costs $x$ and $$y$$ \\(z\\)"
    r, screen, _ = renderer()
    r.feed(ContentDelta(1, math))
    r.feed(ContentDelta(0, math))
    r.feed(RetryNotice(1, 2, 0.1, math))
    r.finish(None, cut_off="gave up")  # the notice stays when the reply did not come
    cards = ToolCardPart(0)
    cards.feed(ToolCallDelta(0, 0, "t1", "f", '{"a": "' + math + '"}'))
    views = [
        *(b["text/html"] for b in screen.displays if "text/html" in b),
        compare_bundle([Comparison("seed", 1, result(math))], plots=False)["text/html"],
        heatmap_html([TokenLogprob(math, -0.1)], math),
        cards.render()["text/html"],
        transcript_bundle("t", [Message.user(math)])["text/html"],
    ]
    assert len(views) == 6
    for html in views:
        assert html.startswith('<div class="mathjax_ignore">'), html[:80]
