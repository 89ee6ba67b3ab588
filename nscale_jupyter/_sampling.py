"""What vLLM's sampling filters do to one next-token distribution (pure math).

Given the top-K logprobs a reply returned at one position, :func:`filter_stages`
replays vLLM 0.32's CPU sampler on them: temperature, then min_p, then top_k,
then top_p, each renormalising what survives. The order is read from vLLM's
source, not guessed:

- ``vllm/v1/sample/sampler.py``, ``Sampler.sample``: ``apply_temperature``,
  then the argmax-invariant logits processors (by default only
  ``MinPLogitsProcessor`` in ``vllm/v1/sample/logits_processor/builtin.py``:
  drop tokens whose probability is below ``min_p`` times the top one's),
  then ``self.topk_topp_sampler``;
- ``vllm/v1/sample/ops/topk_topp_sampler.py``, ``TopKTopPSampler.forward_cpu``
  calls ``apply_top_k_top_p`` (the PyTorch version on CPU, where Triton has
  no backend): top_k keeps logits ``>=`` the k-th largest (ties stay), then
  top_p sorts the survivors ascending, softmaxes them and drops those whose
  cumulative probability is ``<= 1 - top_p`` (the most likely always stays);
- ``vllm/sampling_params.py``, ``SamplingParams.__post_init__``: a temperature
  below ``1e-5`` is greedy and switches top_p, top_k and min_p off.

vLLM's returned logprobs are the raw ones (before temperature and filters),
so they are the right input. Everything here is computed from the returned
top-K only: tokens outside it are unknown, so the kept mass is exact for
min_p and top_k and a lower bound on the tail for top_p and temperature.
A reply with penalties or ``logit_bias`` was sampled from other logits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "GREEDY_BELOW",
    "TOP_K_NOTE",
    "FilterStage",
    "entropy",
    "filter_stages",
    "most_uncertain",
]

#: vLLM's ``_SAMPLING_EPS``: a temperature below it samples greedily.
GREEDY_BELOW = 1e-5
#: How every figure built on these numbers must be labelled.
TOP_K_NOTE = "computed from the returned top-K (a lower bound on the tail)"

_NEG_INF = -math.inf


@dataclass(frozen=True, slots=True)
class FilterStage:
    """The distribution after one step of the sampler.

    ``probs`` lines up with the input logprobs and sums to 1 over the
    survivors (0 for a dropped token). ``mass_kept`` is the share of the
    previous stage's probability that survived this one; ``active`` is
    False for a filter left off (its stage equals the one before).
    """

    name: str
    label: str
    probs: tuple[float, ...]
    mass_kept: float
    active: bool = True

    @property
    def kept(self) -> tuple[bool, ...]:
        return tuple(p > 0.0 for p in self.probs)

    @property
    def survivors(self) -> int:
        return sum(p > 0.0 for p in self.probs)


def _softmax(values: Sequence[float]) -> list[float]:
    top = max(values)
    if top == _NEG_INF:
        return [0.0] * len(values)
    weights = [math.exp(v - top) if v != _NEG_INF else 0.0 for v in values]
    total = sum(weights)
    return [w / total for w in weights]


def _stage(name: str, label: str, before: list[float], logits: list[float]) -> FilterStage:
    """The stage whose survivors are the finite ``logits``; mass taken from ``before``."""
    kept = sum(p for p, v in zip(before, logits, strict=True) if v != _NEG_INF)
    return FilterStage(name, label, tuple(_softmax(logits)), kept)


def _off(name: str, label: str, previous: FilterStage) -> FilterStage:
    return FilterStage(name, f"{label} (off)", previous.probs, 1.0, active=False)


def filter_stages(
    logprobs: Sequence[float],
    *,
    temperature: float = 1.0,
    top_p: float | None = None,
    top_k: int | None = None,
    min_p: float | None = None,
) -> tuple[FilterStage, ...]:
    """Five stages in vLLM's order: returned top-K, temperature, min_p, top_k, top_p.

    ``logprobs`` are one position's top-K alternatives (any order; vLLM's
    ``-9999.0`` stands for minus infinity). The first stage renormalises
    them as returned and its ``mass_kept`` is their share of the whole
    distribution (what the top-K covers). ``top_k`` of 0 or -1, ``top_p``
    of 1 and ``min_p`` of 0 are off, as in vLLM. ``temperature=0`` is greedy.
    """
    if not logprobs:
        raise ValueError("no logprobs to filter (ask with --top-logprobs K)")
    if temperature < 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if top_k is not None and top_k < -1:
        raise ValueError(f"top_k must be -1 or 0 (off) or at least 1, got {top_k}")
    if min_p is not None and not 0.0 <= min_p <= 1.0:
        raise ValueError(f"min_p must be in [0, 1], got {min_p}")
    raw = [_NEG_INF if lp <= -9999.0 or math.isnan(lp) else lp for lp in logprobs]
    coverage = sum(math.exp(v) for v in raw if v != _NEG_INF)
    returned = FilterStage("top-K", f"returned top-{len(raw)}", tuple(_softmax(raw)), coverage)
    stages = [returned]
    greedy = temperature < GREEDY_BELOW
    if greedy:
        # Greedy takes the argmax (the first one on ties, like torch) and
        # vLLM turns every filter off.
        best = raw.index(max(raw))
        logits = [v if i == best else _NEG_INF for i, v in enumerate(raw)]
        stages.append(_stage("temperature", "T = 0 (greedy)", list(returned.probs), logits))
        for name, value in (("min_p", min_p), ("top_k", top_k), ("top_p", top_p)):
            stages.append(_off(name, f"{name} = {value} (greedy)", stages[-1]))
        return tuple(stages)
    logits = [v / temperature if v != _NEG_INF else v for v in raw]
    scaled = FilterStage("temperature", f"T = {temperature:g}", tuple(_softmax(logits)), 1.0)
    stages.append(scaled if temperature != 1.0 else _off("temperature", "T = 1", returned))
    # min_p: drop p < min_p * max(p); the ratio does not depend on the normalisation.
    if min_p:
        probs = list(stages[-1].probs)
        threshold = max(probs) * min_p
        logits = [v if p >= threshold else _NEG_INF for v, p in zip(logits, probs, strict=True)]
        stages.append(_stage("min_p", f"min_p = {min_p:g}", probs, logits))
    else:
        stages.append(_off("min_p", "min_p", stages[-1]))
    # top_k: keep logits >= the k-th largest (ties stay); -inf stays -inf.
    if top_k is not None and top_k > 0:
        ranked = sorted(logits, reverse=True)
        kth = ranked[top_k - 1] if top_k <= len(ranked) else _NEG_INF
        before = list(stages[-1].probs)
        logits = [v if v >= kth and v != _NEG_INF else _NEG_INF for v in logits]
        stages.append(_stage("top_k", f"top_k = {top_k}", before, logits))
    else:
        stages.append(_off("top_k", "top_k", stages[-1]))
    # top_p: ascending order, drop while the cumulative probability <= 1 - p,
    # never the last (most likely) one.
    if top_p is not None and top_p < 1.0:
        before = list(stages[-1].probs)
        order = sorted(range(len(logits)), key=logits.__getitem__)
        cumulative = 0.0
        cut = list(logits)
        for i in order[:-1]:
            cumulative += before[i]
            if cumulative <= 1.0 - top_p:
                cut[i] = _NEG_INF
        stages.append(_stage("top_p", f"top_p = {top_p:g}", before, cut))
    else:
        stages.append(_off("top_p", "top_p", stages[-1]))
    return tuple(stages)


def entropy(logprobs: Sequence[float]) -> float:
    """Entropy (nats) of the top-K alternatives renormalised: 0 when one token has it all."""
    finite = [lp for lp in logprobs if lp > -9999.0 and math.isfinite(lp)]
    if not finite:
        return 0.0
    return -sum(p * math.log(p) for p in _softmax(finite) if p > 0.0)


def most_uncertain(positions: Sequence[Sequence[float]]) -> int:
    """The position whose top-K alternatives have the highest entropy (first on ties; 0 if none).

    A small model is sure of most tokens, so at a random position every
    temperature or filter leaves the top token with all the mass and a plot
    shows nothing move; where the model was least sure, sampling matters.
    """
    best, best_entropy = 0, -1.0
    for i, logprobs in enumerate(positions):
        h = entropy(logprobs)
        if h > best_entropy:
            best, best_entropy = i, h
    return best
