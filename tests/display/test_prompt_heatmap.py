"""The prompt heatmap: prompt tokens coloured by surprise, escaped, readable without hover."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest

from nscale_jupyter import ChatResult, Choice, PromptLogprob, TopLogprob
from nscale_jupyter.display._heatmap import probability_colour
from nscale_jupyter.display._prompt_heatmap import prompt_heatmap_html, rank_score
from tests.core.test_prompt_logprobs import recorded_result

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


class Page(HTMLParser):
    """Every tag and attribute, the text of prompt-token spans, and table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.stack: list[str] = []
        self.tokens: list[str] = []
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self.stack.append("tok" if ("class", "nscale-ptok") in attrs else tag)
        if tag == "td":
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "tok":
            self.tokens.append(data)
        if "td" in self.stack and self.cells:
            self.cells[-1] += data


def page(html: str) -> Page:
    parsed = Page()
    parsed.feed(html)
    return parsed


def entry(
    position: int, token: str, p: float, rank: int, *alts: tuple[str, float]
) -> PromptLogprob:
    top = tuple(TopLogprob(t, math.log(q)) for t, q in alts)
    return PromptLogprob(position, token, position + 100, math.log(p), rank, top)


def test_spans_hold_the_predicted_prompt_tokens() -> None:
    entries = recorded_result().prompt_logprobs or ()
    found = page(prompt_heatmap_html(entries))
    assert "".join(found.tokens) == "".join(e.token for e in entries[1:])
    titles = [v for k, v in found.attrs if k == "title" and v]
    assert any("rank 160" in t and "'.'" in t for t in titles)  # position 1's alternatives
    assert any("did not predict" in t for t in titles)  # the first token


def test_colour_follows_probability_or_rank() -> None:
    entries = [PromptLogprob(0, "<s>"), entry(1, "a", 0.9, 1), entry(2, "b", 0.01, 40)]
    by_prob = prompt_heatmap_html(entries, table=0)
    assert probability_colour(0.9) in by_prob and probability_colour(0.01) in by_prob
    by_rank = prompt_heatmap_html(entries, by="rank", table=0)
    assert probability_colour(1.0) in by_rank and probability_colour(rank_score(40)) in by_rank
    assert "rank the model gave" in by_rank
    with pytest.raises(ValueError, match="prob, rank"):
        prompt_heatmap_html(entries, by="colour")


def test_table_lists_the_most_surprising_tokens_with_alternatives() -> None:
    entries = [
        PromptLogprob(0, "<s>"),
        entry(1, " sure", 0.9, 1, (" sure", 0.9)),
        entry(2, " banana", 0.001, 900, (" Madrid", 0.6), (" the", 0.2), (" banana", 0.001)),
        entry(3, " odd", 0.05, 7, (" ok", 0.5), (" odd", 0.05)),
    ]
    found = page(prompt_heatmap_html(entries, table=2))
    rows = [found.cells[i : i + 5] for i in range(0, len(found.cells), 5)]
    assert [r[1] for r in rows] == ["' banana'", "' odd'"]  # most surprising first, 2 rows
    assert rows[0][2:4] == ["0.1%", "900"]
    assert rows[0][4] == "' Madrid' 60.0%, ' the' 20.0%"  # the token itself left out
    assert "<table" not in prompt_heatmap_html(entries, table=0)


def test_hostile_tokens_are_escaped_everywhere() -> None:
    entries = [
        PromptLogprob(0, ""),
        entry(1, HOSTILE, 0.01, 9, (HOSTILE + "2", 0.5), (HOSTILE, 0.01)),
        entry(2, "&lt;b&gt;", 0.2, 2, ("<b>", 0.5)),
    ]
    html = prompt_heatmap_html(entries, table=5)
    found = page(html)
    assert set(found.tags) <= {"div", "span", "table", "tr", "th", "td", "b", "code"}
    assert {name for name, _ in found.attrs} <= {"class", "title", "style", "data-marker"}
    assert "".join(found.tokens) == HOSTILE + "&lt;b&gt;"
    assert any(HOSTILE in c for c in found.cells)
    assert not re.search(r"<(script|img)", html)


def test_newlines_get_a_visible_marker() -> None:
    entries = [PromptLogprob(0, ""), entry(1, "\n", 0.5, 1), entry(2, "x", 0.5, 1)]
    html = prompt_heatmap_html(entries, table=0)
    assert "↵" in html and "".join(page(html).tokens) == "\nx"


def test_result_method_and_missing_prompt_logprobs() -> None:
    view = recorded_result().prompt_heatmap(by="rank", table=3)
    shown = view._repr_html_()
    assert shown.startswith('<div class="mathjax_ignore"><div class="nscale-prompt-heatmap"')
    assert "The 3 most surprising prompt tokens" in view.html
    assert "capital of France" in str(view)
    with pytest.raises(ValueError, match="prompt_logprobs"):
        ChatResult(choices=(Choice(0, "x"),)).prompt_heatmap()


def test_where_html_cannot_show_the_prompt_text_does() -> None:
    from IPython.lib.pretty import pretty

    from nscale_jupyter.display._prompt_heatmap import PromptHeatmap

    shown = PromptHeatmap('<div class="nscale-prompt-heatmap">…</div>', "user: hi")
    assert pretty(shown) == "user: hi"  # text/plain: not PromptHeatmap(html='<div ...')
