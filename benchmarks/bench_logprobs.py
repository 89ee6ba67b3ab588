"""Heatmap HTML and each plot kind for a 2,000-token reply with top-5 alternatives (issue 7)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nscale_jupyter import ChatResult, Choice, TokenLogprob, TopLogprob
from nscale_jupyter.display._heatmap import heatmap_html
from nscale_jupyter.display._plots import plot_logprobs

N = 2000


def reply() -> ChatResult:
    tokens = []
    for i in range(N):
        word = f" w{i % 113}" if i % 40 else "\n"
        top = tuple(
            TopLogprob(f" a{k}", -0.1 - k * 0.7, tuple(f" a{k}".encode())) for k in range(5)
        )
        tokens.append(TokenLogprob(word, -0.05 * (i % 30), tuple(word.encode()), top))
    text = "".join(t.token for t in tokens)
    return ChatResult(choices=(Choice(0, text, logprobs=tuple(tokens)),))


def timed(fn: object, rounds: int = 5) -> float:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main() -> None:
    result = reply()
    entries = result.logprobs or ()
    figures = {
        "heatmap HTML": lambda: heatmap_html(entries, result.text),
        "plot tokens (+PNG)": lambda: plot_logprobs(result, "tokens").figure._repr_png_(),
        "plot topk (+PNG)": lambda: plot_logprobs(result, "topk", position=7).figure._repr_png_(),
        "plot entropy (+PNG)": lambda: plot_logprobs(result, "entropy").figure._repr_png_(),
        "plot temperature (+PNG)": lambda: plot_logprobs(
            result, "temperature", position=7
        ).figure._repr_png_(),
    }
    print(f"{N} tokens with top-5 alternatives, median of 5 (goal < 0.5 s each)")
    for name, fn in figures.items():
        seconds = timed(fn)
        print(f"  {name:<26} {seconds:.3f} s  {'ok' if seconds < 0.5 else 'over'}")


if __name__ == "__main__":
    main()
