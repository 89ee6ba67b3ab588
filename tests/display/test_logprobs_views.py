"""Token alignment, the heatmap and the logprob plots (issue 7)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from nscale_jupyter import (
    ChatResult,
    Choice,
    ContentDelta,
    LogprobsDelta,
    TokenLogprob,
    TopLogprob,
)
from nscale_jupyter.display._heatmap import HeatmapPart, heatmap_html
from nscale_jupyter.display._plots import logprobs_table, plot_logprobs
from nscale_jupyter.display._tokens import align, token_pieces
from tests.core.helpers import run_stream

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "streams" / "logprobs_top5.sse"


def tok(
    token: str,
    logprob: float = -0.5,
    raw: list[int] | None = None,
    top: tuple[tuple[str, float], ...] = (),
) -> TokenLogprob:
    data = tuple(raw) if raw is not None else tuple(token.encode())
    return TokenLogprob(
        token, logprob, data, tuple(TopLogprob(t, lp, tuple(t.encode())) for t, lp in top)
    )


class Spans(HTMLParser):
    """Collects the text of token spans, and every tag and attribute seen."""

    def __init__(self) -> None:
        super().__init__()
        self.depth: list[bool] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self.depth.append(("class", "nscale-tok") in attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth.pop()

    def handle_data(self, data: str) -> None:
        if self.depth and self.depth[-1]:
            self.text.append(data)


def spans(html: str) -> Spans:
    parser = Spans()
    parser.feed(html)
    return parser


def recorded() -> ChatResult:
    result, _ = run_stream(FIXTURE.read_bytes())
    return result


# -- alignment -------------------------------------------------------------------------
def test_vllm_split_multibyte_character() -> None:
    # vLLM: the first piece of "是" comes as ""/[], the next as U+FFFD-prefixed text.
    entries = [
        tok("Hi "),
        tok("", raw=[]),
        tok("\ufffd!", raw=list("\ufffd!".encode())),
        tok("<|im_end|>", 0.0),
    ]
    aligned = align(entries, "Hi 是!")
    assert "".join(t.text for t in aligned) == "Hi 是!"
    assert [t.matched for t in aligned] == [True, True, True, False]


def test_openai_raw_partial_bytes() -> None:
    raw = "是".encode()
    entries = [tok("x", raw=list(raw[:2])), tok("y", raw=[*raw[2:], 33])]
    assert token_pieces(entries) == ["", "是!"]
    assert "".join(t.text for t in align(entries, "是!")) == "是!"


def test_sentinel_logprob_is_none() -> None:
    (a,) = align([tok("x", -9999.0)], "x")
    assert a.logprob is None


def test_recorded_engine_tokens_join_to_the_text() -> None:
    result = recorded()
    aligned = align(result.logprobs or (), result.text)
    assert "".join(t.text for t in aligned) == result.text
    assert all(t.matched for t in aligned)


# -- heatmap ----------------------------------------------------------------------------
def test_heatmap_spans_hold_exactly_the_text() -> None:
    result = recorded()
    found = spans(heatmap_html(result.logprobs or (), result.text))
    assert "".join(found.text) == result.text
    assert any(name == "title" and value and "p=" in value for name, value in found.attrs)


def test_heatmap_escapes_hostile_tokens() -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    entries = [tok(hostile, top=((hostile, -0.1), ("ok", -2.0)))]
    found = spans(heatmap_html(entries, hostile))
    assert "script" not in found.tags and "img" not in found.tags
    assert all(name in ("class", "title", "style", "data-marker") for name, _ in found.attrs)
    assert "".join(found.text) == hostile


def test_heatmap_streams_token_by_token() -> None:
    part = HeatmapPart()
    assert part.render() == {}
    assert part.feed(ContentDelta(0, "Hi"))
    assert part.feed(LogprobsDelta(0, (tok("Hi"),)))
    assert not part.feed(ContentDelta(1, "other choice"))
    assert "".join(spans(part.render()["text/html"]).text) == "Hi"


def test_newlines_get_a_visible_marker() -> None:
    html = heatmap_html([tok("a"), tok("\n"), tok("b")], "a\nb")
    assert "↵" in html
    assert "".join(spans(html).text) == "a\nb"


class Table(HTMLParser):
    """The rows of the heatmap's alternatives table, as the text of their cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_alternatives_read_without_hover_in_a_table() -> None:
    hostile = "<b>x</b>"
    entries = [
        tok("Hi", -0.1, top=(("Hi", -0.1), ("Yo", -2.5))),
        tok(hostile, top=((hostile, -0.5),)),
    ]
    html = heatmap_html(entries, "Hi" + hostile)
    assert '<details class="nscale-heatmap-alternatives">' in html  # opens with no JavaScript
    table = Table()
    table.feed(html)
    assert table.rows[0] == ["#", "token", "p", "alternatives"]
    assert table.rows[1] == ["0", "'Hi'", "90.5%", "'Hi' 90.5%, 'Yo' 8.2%"]
    assert table.rows[2][1] == repr(hostile) and "b" not in table.tags  # escaped


def test_every_token_sets_its_text_and_background_colour() -> None:
    """A dark theme's text colour never lands on a token's light background."""
    html = heatmap_html([tok("a"), tok("<eos>")], "a")
    for style in re.findall(r'class="nscale-tok[^"]*" title="[^"]*" style="([^"]*)"', html):
        assert "background:" in style and "color:#" in style


# -- plots ---------------------------------------------------------------------------------
def test_tokens_plot_points_and_labels() -> None:
    result = recorded()
    ax = plot_logprobs(result, "tokens")
    assert len(ax.lines[0].get_xdata()) == len(result.logprobs or ())
    assert len(ax.get_xticklabels()) == len(result.logprobs or ())
    png = ax.figure._repr_png_()
    assert png.startswith(b"\x89PNG")


def test_tokens_plot_skips_minus_infinity() -> None:
    result = ChatResult(choices=(Choice(0, "ab", logprobs=(tok("a", -0.1), tok("b", -9999.0))),))
    ax = plot_logprobs(result, "tokens", scale="prob")
    assert list(ax.lines[0].get_xdata()) == [0]
    assert list(ax.lines[1].get_xdata()) == [1]  # marked separately
    assert ax.lines[0].get_ydata()[0] == pytest.approx(math.exp(-0.1))


def test_topk_bars_and_highlight() -> None:
    result = recorded()
    ax = plot_logprobs(result, "topk", position=1)
    assert len(ax.patches) == 5
    colours = {p.get_facecolor() for p in ax.patches}
    assert len(colours) == 2  # chosen token highlighted
    heights = [p.get_height() for p in ax.patches]
    assert heights == sorted(heights, reverse=True)


def test_topk_grid_of_positions() -> None:
    ax = plot_logprobs(recorded(), "topk", positions=[0, 1, 2])
    assert len(ax.figure.axes) == 3
    assert all(len(a.patches) == 5 for a in ax.figure.axes)


def test_entropy_plot_says_it_is_an_estimate() -> None:
    result = recorded()
    ax = plot_logprobs(result, "entropy")
    assert len(ax.lines) == 2 and len(ax.lines[0].get_xdata()) == len(result.logprobs or ())
    assert "estimate" in ax.get_legend().get_texts()[0].get_text()


def test_temperature_plot_renormalises() -> None:
    result = ChatResult(
        choices=(
            Choice(
                0,
                "a",
                logprobs=(
                    tok(
                        "a",
                        math.log(0.6),
                        top=(("a", math.log(0.6)), ("b", math.log(0.3)), ("c", math.log(0.1))),
                    ),
                ),
            ),
        )
    )
    ax = plot_logprobs(result, "temperature", temperatures=(0.5, 1.0, 2.0))
    assert len(ax.patches) == 9
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights[3:6]) == pytest.approx(1.0)
    assert heights[3:6] == pytest.approx([0.6, 0.3, 0.1])
    assert heights[0] > heights[3] > heights[6]  # colder is sharper


def test_each_choice_gets_a_row() -> None:
    lp = (tok("a", -0.1, top=(("a", -0.1),)),)
    result = ChatResult(choices=(Choice(0, "a", logprobs=lp), Choice(1, "a", logprobs=lp)))
    ax = plot_logprobs(result, "tokens", choice="all")
    assert len(ax.figure.axes) == 2


def test_no_logprobs_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="--logprobs"):
        plot_logprobs(ChatResult(choices=(Choice(0, "x"),)), "tokens")
    with pytest.raises(ValueError, match="unknown plot kind"):
        plot_logprobs(recorded(), "pie")


def test_logprobs_table_rows() -> None:
    result = recorded()
    table = logprobs_table(result)
    assert len(table) == len(result.logprobs or ())
    assert "".join(table["text"]) == result.text


def test_no_matplotlib_at_import() -> None:
    code = (
        "import nscale_jupyter.display._plots, nscale_jupyter.display._heatmap, sys; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
