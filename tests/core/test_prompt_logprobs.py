"""Prompt logprobs as typed entries, from a response recorded on vLLM 0.32 (issue 19)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from nscale_jupyter import ChatResult, PromptLogprob, PromptLogprobs, TopLogprob
from tests.core.helpers import run_full

FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "responses" / "prompt_logprobs.json"
)


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def recorded_result() -> ChatResult:
    return run_full(recorded()["response"])


def test_one_entry_per_prompt_token() -> None:
    result = recorded_result()
    assert result.usage is not None and result.prompt_logprobs is not None
    assert len(result.prompt_logprobs) == result.usage.prompt_tokens == 37
    assert [p.position for p in result.prompt_logprobs] == list(range(37))


def test_first_token_was_not_predicted() -> None:
    first = (recorded_result().prompt_logprobs or ())[0]
    assert first == PromptLogprob(0, "")
    assert first.prob is None and first.surprisal is None


def test_entries_read_the_token_itself_first() -> None:
    # Recorded: {"313": {"logprob": -10.36, "rank": 160, "decoded_token": "user"}, "16": ...}
    entry = (recorded_result().prompt_logprobs or ())[1]
    raw = recorded()["response"]["prompt_logprobs"][1]
    assert (entry.token, entry.token_id, entry.rank) == ("user", 313, 160)
    assert entry.logprob == raw["313"]["logprob"]
    assert entry.prob == math.exp(entry.logprob)
    # The top 3 and, ranked below them, the token itself: most likely first.
    assert [t.token for t in entry.top] == [".", " ", "<think>", "user"]


def test_a_token_inside_the_top_k_appears_once() -> None:
    entries = recorded_result().prompt_logprobs or ()
    inside = [e for e in entries if e.rank is not None and e.rank <= 3]
    outside = [e for e in entries if e.rank is not None and e.rank > 3]
    assert inside and outside
    assert all(len(e.top) == 3 for e in inside)
    assert all(len(e.top) == 4 and e.top[-1].token == e.token for e in outside)
    for e in entries:
        logprobs = [t.logprob for t in e.top]
        assert logprobs == sorted(logprobs, reverse=True)


def test_tokens_spell_the_prompt() -> None:
    result = recorded_result()
    text = "".join(p.token for p in result.prompt_logprobs or ())
    assert recorded()["request"]["messages"][0]["content"] in text


def test_built_only_when_looked_at() -> None:
    class Spy(list[Any]):
        reads = 0

        def __iter__(self) -> Any:
            Spy.reads += 1
            return super().__iter__()

    lazy = PromptLogprobs(Spy(recorded()["response"]["prompt_logprobs"]))
    assert len(lazy) == 37 and Spy.reads == 0
    assert lazy[5].position == 5 and lazy[6].position == 6
    assert Spy.reads == 1


def test_odd_entries_do_not_break_parsing() -> None:
    raw = [
        None,
        {},
        "junk",
        {"abc": {"logprob": -1.0, "decoded_token": None}},
        {"7": {"logprob": -9999.0, "rank": 50000, "decoded_token": "x"}},
        {"8": "junk", "9": {"logprob": -0.5, "rank": 1, "decoded_token": "y"}},
    ]
    entries = PromptLogprobs.from_json(raw, token_ids=[1, 2, 3, 4, 5, 6])
    assert entries is not None
    assert [e.token_id for e in entries] == [1, 2, 3, 4, 7, 9]
    assert entries[3] == PromptLogprob(3, "", 4, -1.0, None, (TopLogprob("", -1.0),))
    assert entries[4].prob == 0.0 and entries[4].surprisal == math.inf
    assert (entries[5].token, entries[5].rank) == ("y", 1)


def test_absent_unless_asked() -> None:
    response = recorded()["response"]
    assert run_full({**response, "prompt_logprobs": None}).prompt_logprobs is None
    assert PromptLogprobs.from_json({"not": "a list"}) is None
    assert run_full({**response, "prompt_logprobs": []}).prompt_logprobs == []


def test_token_ids_fill_the_first_position() -> None:
    response = recorded()["response"]
    ids = list(range(100, 137))
    result = run_full({**response, "prompt_token_ids": ids})
    assert [p.token_id for p in result.prompt_logprobs or ()][:2] == [100, 313]


def test_results_compare_equal() -> None:
    assert recorded_result() == recorded_result()
