"""vLLM's sampling filters replayed on a top-K, against hand-computed cases (issue 19)."""

from __future__ import annotations

import math

import pytest

from nscale_jupyter._sampling import entropy, filter_stages, most_uncertain

# p = 0.5, 0.25, 0.15, 0.1: a full distribution, so the top-K covers all of it.
P = (0.5, 0.25, 0.15, 0.1)
LP = tuple(math.log(p) for p in P)


def probs(**knobs: float | int | None) -> tuple[float, ...]:
    return filter_stages(LP, **knobs)[-1].probs  # type: ignore[arg-type]


def test_stages_come_in_vllms_order() -> None:
    stages = filter_stages(LP, temperature=0.7, min_p=0.1, top_k=3, top_p=0.9)
    assert [s.name for s in stages] == ["top-K", "temperature", "min_p", "top_k", "top_p"]
    assert all(s.active for s in stages)


def test_no_knobs_changes_nothing() -> None:
    stages = filter_stages(LP)
    assert stages[0].probs == pytest.approx(P)
    assert stages[0].mass_kept == pytest.approx(1.0)
    assert [s.active for s in stages] == [True, False, False, False, False]
    assert all(s.probs == stages[0].probs and s.mass_kept == 1.0 for s in stages[1:])
    assert "(off)" in stages[2].label


def test_top_k_mass_is_its_share_of_everything() -> None:
    stages = filter_stages([math.log(0.5), math.log(0.2)])
    assert stages[0].mass_kept == pytest.approx(0.7)
    assert stages[0].probs == pytest.approx((0.5 / 0.7, 0.2 / 0.7))


def test_temperature_scales_logits() -> None:
    # T = 0.5 squares the probabilities, then renormalises.
    squares = [p * p for p in P]
    assert probs(temperature=0.5) == pytest.approx([s / sum(squares) for s in squares])
    # T = 2 takes square roots.
    roots = [math.sqrt(p) for p in P]
    assert probs(temperature=2.0) == pytest.approx([r / sum(roots) for r in roots])
    assert filter_stages(LP, temperature=2.0)[1].mass_kept == 1.0


def test_greedy_puts_everything_on_the_top_token_and_turns_filters_off() -> None:
    stages = filter_stages(LP, temperature=0.0, top_k=3, top_p=0.5, min_p=0.2)
    assert stages[1].probs == (1.0, 0.0, 0.0, 0.0)
    assert stages[1].mass_kept == pytest.approx(0.5)
    assert [s.active for s in stages[2:]] == [False, False, False]
    assert all("greedy" in s.label for s in stages[1:])


def test_min_p_drops_below_a_share_of_the_top_token() -> None:
    # threshold 0.5 * 0.4 = 0.2: keeps 0.5 and 0.25.
    stage = filter_stages(LP, min_p=0.4)[2]
    assert stage.probs == pytest.approx((0.5 / 0.75, 0.25 / 0.75, 0, 0))
    assert stage.mass_kept == pytest.approx(0.75)
    # Exactly at the threshold stays (vLLM masks p < threshold).
    assert filter_stages(LP, min_p=0.2)[2].survivors == 4


def test_min_p_sees_the_temperature() -> None:
    # At T = 0.5 probabilities are squared: 0.25/0.0625/0.0225/0.01 (over 0.345);
    # threshold 0.25 * 0.1 = 0.025 keeps two tokens, though at T = 1 all four pass.
    assert filter_stages(LP, min_p=0.1)[2].survivors == 4
    stage = filter_stages(LP, temperature=0.5, min_p=0.1)[2]
    assert stage.survivors == 2
    assert stage.mass_kept == pytest.approx((0.25 + 0.0625) / 0.345)


def test_top_k_keeps_the_k_largest() -> None:
    stage = filter_stages(LP, top_k=2)[3]
    assert stage.probs == pytest.approx((0.5 / 0.75, 0.25 / 0.75, 0, 0))
    assert stage.mass_kept == pytest.approx(0.75)
    assert filter_stages(LP, top_k=10)[3].survivors == 4  # more than returned: nothing dropped
    assert not filter_stages(LP, top_k=0)[3].active
    assert not filter_stages(LP, top_k=-1)[3].active


def test_top_k_keeps_ties() -> None:
    tied = [math.log(0.4), math.log(0.3), math.log(0.3)]
    assert filter_stages(tied, top_k=2)[3].survivors == 3


def test_top_p_keeps_the_smallest_set_reaching_p() -> None:
    # Ascending 0.1, 0.15, 0.25, 0.5; cumulative 0.1, 0.25, 0.5, 1.0.
    # top_p = 0.6 drops cumulative <= 0.4: the 0.1 and 0.15 tokens.
    stage = filter_stages(LP, top_p=0.6)[4]
    assert stage.probs == pytest.approx((0.5 / 0.75, 0.25 / 0.75, 0, 0))
    assert stage.mass_kept == pytest.approx(0.75)
    # top_p = 0.3 drops cumulative <= 0.7: all but the top token.
    assert filter_stages(LP, top_p=0.3)[4].probs == pytest.approx((1, 0, 0, 0))
    # The most likely token always stays, however small top_p is.
    assert filter_stages(LP, top_p=1e-9)[4].survivors == 1
    assert not filter_stages(LP, top_p=1.0)[4].active


def test_top_p_works_on_what_top_k_left() -> None:
    # top_k = 3 leaves 0.5, 0.25, 0.15 -> renormalised 0.556, 0.278, 0.167.
    # top_p = 0.8 drops cumulative <= 0.2: only the 0.167 token (cumulative 0.444 stays).
    stages = filter_stages(LP, top_k=3, top_p=0.8)
    assert stages[3].survivors == 3
    assert stages[4].probs == pytest.approx((0.5 / 0.75, 0.25 / 0.75, 0, 0))
    assert stages[4].mass_kept == pytest.approx(0.75 / 0.9)
    # Without top_k first, top_p = 0.8 keeps three tokens (drops cumulative <= 0.2: 0.1).
    assert filter_stages(LP, top_p=0.8)[4].survivors == 3


def test_all_four_combined() -> None:
    # T = 2: weights sqrt(p) = .707, .5, .387, .316 (sum 1.910).
    # min_p = 0.5: threshold .707 * .5 = .354 of the weights, drops .316.
    # top_k = 2: keeps .707 and .5. top_p = 0.55: renormalised .586, .414;
    # ascending cumulative .414 <= .45 dropped: only the top token stays.
    stages = filter_stages(LP, temperature=2.0, min_p=0.5, top_k=2, top_p=0.55)
    roots = [math.sqrt(p) for p in P]
    total = sum(roots)
    assert [s.survivors for s in stages] == [4, 4, 3, 2, 1]
    assert stages[2].mass_kept == pytest.approx(sum(roots[:3]) / total)
    assert stages[3].mass_kept == pytest.approx(sum(roots[:2]) / sum(roots[:3]))
    assert stages[4].mass_kept == pytest.approx(roots[0] / sum(roots[:2]))
    assert stages[4].probs == (1.0, 0.0, 0.0, 0.0)
    for stage in stages:
        assert sum(stage.probs) == pytest.approx(1.0)


def test_order_of_input_does_not_matter() -> None:
    shuffled = (LP[2], LP[0], LP[3], LP[1])
    stage = filter_stages(shuffled, top_k=2)[3]
    assert stage.probs == pytest.approx((0, 0.5 / 0.75, 0, 0.25 / 0.75))


def test_minus_infinity_sentinel_is_never_kept() -> None:
    stages = filter_stages([math.log(0.6), -9999.0], temperature=3.0)
    assert all(s.probs[1] == 0.0 for s in stages)


def test_bad_knobs_are_clear_errors() -> None:
    for knobs in ({"temperature": -1}, {"top_p": 0}, {"top_p": 1.5}, {"top_k": -2}, {"min_p": 2}):
        with pytest.raises(ValueError):
            filter_stages(LP, **knobs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="top-logprobs"):
        filter_stages([])


def test_entropy_and_most_uncertain() -> None:
    assert entropy([0.0]) == 0.0
    assert entropy([math.log(0.5), math.log(0.5)]) == pytest.approx(math.log(2))
    assert entropy([]) == 0.0
    sure = [math.log(0.99), math.log(0.01)]
    unsure = [math.log(0.4), math.log(0.35), math.log(0.25)]
    assert most_uncertain([sure, unsure, sure, unsure]) == 1  # first of equals
    assert most_uncertain([]) == 0
