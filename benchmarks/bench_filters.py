"""The token lab's figures (issue 19): sampling-filter math and the what-if redraw for
top-20 at one position (goal <= 100 ms per redraw), and the prompt view of a long prompt."""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nscale_jupyter import ChatResult, Choice, PromptLogprobs, TokenLogprob, TopLogprob
from nscale_jupyter._sampling import filter_stages
from nscale_jupyter.display._filters import FiltersPlot
from nscale_jupyter.display._plots import _figure, plot_logprobs
from nscale_jupyter.display._prompt_heatmap import prompt_heatmap_html

K = 20
PROMPT = 2000
#: Slider positions a student might drag through, one redraw each.
KNOBS: list[dict[str, Any]] = [
    {"temperature": t, "top_p": p, "top_k": k, "min_p": m}
    for t in (0.3, 0.7, 1.0, 1.5)
    for p in (None, 0.9)
    for k in (None, 5)
    for m in (None, 0.05)
]


def top20() -> list[tuple[str, float]]:
    weights = [1.0 / (i + 1) ** 1.2 for i in range(K)]
    total = sum(weights) / 0.9  # the top-20 covers 90% of the probability
    return [(f" tok{i}", math.log(w / total)) for i, w in enumerate(weights)]


def reply(alternatives: list[tuple[str, float]]) -> ChatResult:
    top = tuple(TopLogprob(t, lp) for t, lp in alternatives)
    entries = tuple(TokenLogprob(" tok0", alternatives[0][1], None, top) for _ in range(200))
    return ChatResult(choices=(Choice(0, " tok0" * 200, logprobs=entries),))


def prompt_json() -> list[Any]:
    raw: list[Any] = [None]
    for i in range(1, PROMPT):
        own = {str(i): {"logprob": -0.3 * (i % 17), "rank": 1 + i % 40, "decoded_token": f" w{i}"}}
        top = {
            str(50_000 + k): {"logprob": -0.2 * (k + 1), "rank": k + 1, "decoded_token": f" a{k}"}
            for k in range(5)
        }
        raw.append({**own, **top})
    return raw


def timed(fn: Callable[[], object], rounds: int) -> float:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def whatif_redraw(result: ChatResult) -> float:
    """The panel's path: a temperature setting changes, the what-if's Image gets a new PNG."""
    from nscale_jupyter._settings import ChatSettings
    from nscale_jupyter.widgets._whatif import WhatIf

    settings = ChatSettings()
    whatif = WhatIf(settings, on_sample=lambda: None, on_branch=lambda p, a: None)
    whatif.show(result)
    temperatures = iter([0.3, 0.7, 1.0, 1.5] * 1000)

    def move() -> None:
        settings.temperature = next(temperatures)

    before = whatif.redraws
    took = timed(move, 40)
    assert whatif.redraws == before + 40
    return took


def main() -> None:
    alternatives = top20()
    logprobs = [lp for _, lp in alternatives]
    result = reply(alternatives)
    fig, grid = _figure()
    view = FiltersPlot(grid[0][0], alternatives, position=0, chosen=" tok0")
    view.update()
    fig.tight_layout()
    knobs = iter(KNOBS * 1000)

    def redraw() -> bytes:
        view.update(**next(knobs))
        return view.png()

    view.png()  # the first call draws everything and keeps the background

    math_s = timed(lambda: filter_stages(logprobs, **KNOBS[-1]), 2000)
    redraw_s = timed(redraw, len(KNOBS))
    full_s = timed(lambda: plot_logprobs(result, "filters", **KNOBS[-1]).figure._repr_png_(), 10)
    print(f"what-if at one position, top-{K}, all four filters on (goal <= 100 ms per redraw)")
    print(f"  filter math (filter_stages)         {1e6 * math_s:8.1f} us")
    ok = "ok" if redraw_s <= 0.1 else "over"
    print(f"  redraw in place (update + png())    {1e3 * redraw_s:8.1f} ms  {ok}")
    print(f"  new figure (plot_logprobs + PNG)    {1e3 * full_s:8.1f} ms")
    panel_s = whatif_redraw(result)
    ok = "ok" if panel_s <= 0.1 else "over"
    print(f"  panel what-if (slider -> Image)     {1e3 * panel_s:8.1f} ms  {ok}")
    raw = prompt_json()
    parse_s = timed(lambda: list(PromptLogprobs(raw)), 5)
    entries = list(PromptLogprobs(raw))
    html_s = timed(lambda: prompt_heatmap_html(entries), 5)
    print(f"prompt of {PROMPT} tokens with top-5 (goal < 0.5 s each)")
    print(f"  parse prompt_logprobs               {1e3 * parse_s:8.1f} ms")
    print(f"  prompt heatmap HTML (+ table)       {1e3 * html_s:8.1f} ms")


if __name__ == "__main__":
    main()
