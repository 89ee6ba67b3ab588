"""%chat compare seed=1..8: ranges of whole numbers, and how the answers differ (issue 19)."""

from __future__ import annotations

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._compare import Comparison, divergence, parse_values
from nscale_jupyter._options import OptionError
from nscale_jupyter._results import ChatResult, Choice, TokenLogprob
from nscale_jupyter.display._compare import compare_bundle, summary_lines
from tests.core.streams import SlowServer
from tests.html import tags

from .conftest import Server


def test_ranges_of_whole_numbers() -> None:
    assert parse_values("seed=1..8") == ("seed", list(range(1, 9)))
    assert parse_values("seed=1..3,10") == ("seed", [1, 2, 3, 10])
    assert parse_values("seed=-2..-1") == ("seed", [-2, -1])
    assert parse_values("top_logprobs=0..2") == ("top_logprobs", [0, 1, 2])
    with pytest.raises(OptionError, match="whole-number field"):
        parse_values("temperature=0..1")
    with pytest.raises(OptionError, match="empty"):
        parse_values("seed=5..1")
    with pytest.raises(OptionError, match="at most 64"):
        parse_values("seed=1..100000000")
    with pytest.raises(OptionError, match="--seed"):
        parse_values("seed=1..x")
    with pytest.raises(OptionError, match="at least two"):
        parse_values("seed=3..3")


def result(*tokens: str, logprobs: bool = True) -> ChatResult:
    entries = tuple(TokenLogprob(t, -0.1) for t in tokens) if logprobs else None
    return ChatResult(choices=(Choice(content="".join(tokens), logprobs=entries),))


def test_distinct_answers_and_where_each_departs_by_token() -> None:
    runs = [
        Comparison("seed", 1, result("The", " cat", " sat")),
        Comparison("seed", 2, result("The", " cat", " sat")),
        Comparison("seed", 3, result("The", " dog", " ran")),
        Comparison("seed", 4, result("The", " cat")),
        Comparison("seed", 5, None, error="boom"),
    ]
    summary = divergence(runs)
    assert summary is not None
    assert (summary.distinct, summary.total, summary.unit) == (3, 4, "token")
    same, dog, short = summary.rows[1:]
    assert same.position is None and same.answer == 0
    assert (dog.position, dog.piece, dog.first, dog.answer) == (1, " dog", " cat", 1)
    assert (short.position, short.piece, short.first) == (2, None, " sat")
    lines = summary_lines(summary)
    assert lines[0] == "3 distinct answer(s) among 4"
    assert "seed=3 (answer 2) departs at token 1: ' dog' where seed=1 has ' cat'" in lines
    assert "seed=4 (answer 3) departs at token 2: (its end) where seed=1 has ' sat'" in lines


def test_without_logprobs_the_departure_is_a_character() -> None:
    runs = [Comparison("seed", s, result(t, logprobs=False)) for s, t in [(1, "abc"), (2, "abd")]]
    summary = divergence(runs)
    assert summary is not None and summary.unit == "character"
    assert (summary.rows[1].position, summary.rows[1].piece) == (2, "d")


def test_the_summary_escapes_model_text() -> None:
    runs = [Comparison("seed", 1, result("<b>x</b>")), Comparison("seed", 2, result("<i>y"))]
    html = compare_bundle(runs, plots=False)["text/html"]
    assert "nscale-compare-summary" in html
    assert "&lt;i&gt;y" in html and tags(html).tags.count("i") == 0


def test_compare_a_seed_range_in_the_magic(ip: InteractiveShell, server: Server) -> None:
    slow = SlowServer(lambda body: "same" if body.get("seed", 0) < 3 else f"seed {body['seed']}")
    session = api.default_session()
    session._transport = httpx.MockTransport(slow)
    session.settings.base_url = "https://compare.test/v1"
    with capture_output():
        ip.run_cell_magic("chat", "-m m -t 0.8", "Tell me a story.")
    with capture_output() as cap:
        ip.run_line_magic("chat", "compare seed=1..4")
    assert sorted(b["seed"] for b in slow.bodies[1:]) == [1, 2, 3, 4]
    shown = cap.outputs[-1].data
    assert "3 distinct answer(s) among 4" in shown["text/plain"]
    assert (
        "seed=3 (answer 2) departs at character 1: 'e' where seed=1 has 'a'" in shown["text/plain"]
    )
    assert "nscale-compare-summary" in shown["text/html"]
