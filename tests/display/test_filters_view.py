"""The filters view and the default position of one-position plots (issue 19)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.figure import Figure

from nscale_jupyter import ChatResult, Choice, TokenLogprob, TopLogprob
from nscale_jupyter._sampling import TOP_K_NOTE, entropy, filter_stages
from nscale_jupyter.display._filters import FiltersPlot
from nscale_jupyter.display._plots import default_position, plot_logprobs
from tests.display.test_logprobs_views import recorded

P = (0.5, 0.25, 0.15, 0.1)


def position(chosen: str, probs: tuple[float, ...], names: str = "abcd") -> TokenLogprob:
    top = tuple(TopLogprob(n, math.log(p)) for n, p in zip(names, probs, strict=False))
    return TokenLogprob(
        chosen, dict(zip(names, map(math.log, probs), strict=False))[chosen], None, top
    )


def reply(*entries: TokenLogprob) -> ChatResult:
    text = "".join(e.token for e in entries)
    return ChatResult(choices=(Choice(0, text, logprobs=entries),))


SURE = (0.97, 0.01, 0.01, 0.01)
#: Position 2 is where the model was least sure.
MIXED = reply(
    position("a", SURE), position("a", (0.7, 0.1, 0.1, 0.1)), position("b", P), position("a", SURE)
)


def heights(ax: object) -> list[list[float]]:
    return [[r.get_height() for r in bars.patches] for bars in ax.containers]  # type: ignore[attr-defined]


def test_filters_bars_follow_the_stages() -> None:
    ax = plot_logprobs(MIXED, "filters", position=2, temperature=0.5, top_k=2)
    stages = filter_stages([math.log(p) for p in P], temperature=0.5, top_k=2)
    assert len(ax.containers) == 5 and len(ax.patches) == 5 * 4
    for drawn, stage in zip(heights(ax), stages, strict=True):
        assert drawn == pytest.approx(stage.probs)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "returned top-4: 100% of all probability"
    assert legend[1] == "T = 0.5: keeps 100%"
    assert legend[2] == "min_p (off)"
    assert legend[3] == f"top_k = 2: keeps {stages[3].mass_kept:.0%}"
    assert legend[4] == "top_p (off)"
    assert TOP_K_NOTE in ax.get_xlabel()
    assert "samples from 2 of 4" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    chosen = [t.get_text() for t in ax.get_xticklabels() if t.get_color() == "tab:orange"]
    assert chosen == ["b"]


def test_off_stages_are_faint() -> None:
    ax = plot_logprobs(MIXED, "filters", position=2, top_p=0.6)
    alphas = [bars.patches[0].get_alpha() for bars in ax.containers]
    assert alphas == [1.0, 0.25, 0.25, 0.25, 1.0]


def test_update_redraws_in_place() -> None:
    ax = Figure().subplots()
    alternatives = [(t, math.log(p)) for t, p in zip("abcd", P, strict=True)]
    view = FiltersPlot(ax, alternatives, position=0, chosen="a")
    view.update()
    patches = list(ax.patches)
    stages = view.update(min_p=0.4)
    assert list(ax.patches) == patches  # the same artists, new heights
    assert heights(ax)[2] == pytest.approx(stages[2].probs)
    assert heights(ax)[2][2:] == [0.0, 0.0]
    assert "keeps 75%" in ax.get_legend().get_texts()[2].get_text()


def test_the_title_stays_on_the_figure_after_blitted_redraws() -> None:
    ax = Figure(figsize=(8, 3)).subplots()
    alternatives = [(t, math.log(p)) for t, p in zip("abcd", P, strict=True)]
    view = FiltersPlot(ax, alternatives, position=0, chosen="a")
    view.update()
    ax.figure.tight_layout()
    view.png()
    view.update(top_k=1)
    view.png()
    assert view._title.get_position()[1] == 1.0  # on top of the axes, not off the figure
    assert "samples from 1 of 4" in view._title.get_text()


def test_unknown_filter_knob_is_an_error() -> None:
    with pytest.raises(TypeError, match="top_q"):
        plot_logprobs(MIXED, "filters", top_q=0.5)
    with pytest.raises(ValueError, match="top_p"):
        plot_logprobs(MIXED, "filters", top_p=0.0)


def test_filters_on_a_recorded_reply() -> None:
    result = recorded()
    ax = plot_logprobs(result, "filters", temperature=0.8, top_p=0.9, min_p=0.05)
    assert len(ax.patches) == 5 * 5  # top-5 alternatives, five stages
    assert ax.figure._repr_png_().startswith(b"\x89PNG")
    grid = plot_logprobs(result, "filters", positions=[0, 1], top_k=2)
    assert len(grid.figure.axes) == 2


# -- default position: where the model was least sure ---------------------------------
def test_default_position_is_the_highest_entropy() -> None:
    assert default_position(list(MIXED.logprobs or ())) == 2
    for kind in ("topk", "temperature", "filters"):
        ax = plot_logprobs(MIXED, kind)
        assert ax.get_title().startswith("position 2:"), kind
        assert ax.get_title() == plot_logprobs(MIXED, kind, position=2).get_title()


def test_default_position_on_a_recorded_reply() -> None:
    entries = list(recorded().logprobs or ())
    scores = [entropy([t.logprob for t in e.top_logprobs]) for e in entries]
    assert default_position(entries) == scores.index(max(scores))


def test_each_choice_gets_its_own_default_position() -> None:
    first = (position("a", SURE), position("b", P))
    second = (position("b", P), position("a", SURE))
    result = ChatResult(
        choices=(Choice(0, "ab", logprobs=first), Choice(1, "ba", logprobs=second))
    )
    ax = plot_logprobs(result, "topk", choice="all")
    titles = [a.get_title() for a in ax.figure.axes]
    assert "position 1:" in titles[0] and "position 0:" in titles[1]


def test_entropy_plot_marks_the_least_sure_position() -> None:
    ax = plot_logprobs(MIXED, "entropy")
    assert [t.get_text() for t in ax.texts] == ["least sure: 2"]


def test_png_repaints_only_what_moved() -> None:
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    alternatives = [(t, math.log(p)) for t, p in zip("abcd", P, strict=True)]
    view = FiltersPlot(ax, alternatives, position=0)
    view.update()
    first = view.png()
    assert first.startswith(b"\x89PNG")
    view.update(top_k=1)
    second = view.png()
    assert second.startswith(b"\x89PNG") and second != first
    view.update()
    assert view.png() == first  # the same knobs give the same picture
    handles = ax.get_legend().legend_handles
    assert [h.get_alpha() for h in handles] == [1.0, 0.25, 0.25, 0.25, 0.25]
