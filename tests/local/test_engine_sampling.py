"""The filters math against vLLM 0.32's own sampler code, run in the engine venv (issue 19).

Random distributions over a small vocabulary (so the top-K is all of it):
``filter_stages`` must keep exactly the tokens vLLM's temperature, min_p
processor and CPU top-k/top-p keep, with the same probabilities.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from nscale_jupyter import _sampling
from nscale_jupyter.local import engine_python
from tests.conftest import require

pytestmark = pytest.mark.engine

SCRIPT = r"""
import importlib.util, json, math, random, sys
import torch
from vllm.v1.sample.sampler import Sampler
from vllm.v1.sample.ops.topk_topp_sampler import apply_top_k_top_p
from vllm.v1.sample.logits_processor.builtin import MinPLogitsProcessor

spec = importlib.util.spec_from_file_location("sampling", sys.argv[1])
ours = importlib.util.module_from_spec(spec)
sys.modules["sampling"] = ours
spec.loader.exec_module(ours)


def vllm_probs(logprobs, temperature, top_p, top_k, min_p):
    logits = torch.tensor([logprobs], dtype=torch.float32)
    logits = Sampler.apply_temperature(logits, torch.tensor([temperature]), all_random=True)
    if min_p:
        minp = object.__new__(MinPLogitsProcessor)  # its state, without a vllm_config
        minp.min_p_count = 1
        minp.min_p = torch.tensor([[min_p]])
        logits = minp.apply(logits)
    # The input batch clamps top_k to the vocabulary.
    k = torch.tensor([min(top_k, len(logprobs))]) if top_k else None
    p = torch.tensor([top_p]) if top_p is not None and top_p < 1 else None
    return apply_top_k_top_p(logits, k, p).softmax(-1)[0].tolist()


rng = random.Random(19)
mismatches, worst = [], 0.0
for _ in range(500):
    raw = [rng.gauss(0, 2.5) for _ in range(rng.randint(2, 20))]
    z = math.log(sum(math.exp(x) for x in raw))
    lps = [x - z for x in raw]
    knobs = dict(
        temperature=rng.choice([0.2, 0.5, 0.7, 1.0, 1.3, 2.0]),
        top_p=rng.choice([None, 0.3, 0.5, 0.8, 0.9, 0.95]),
        top_k=rng.choice([None, 1, 2, 3, 5, 10, 30]),
        min_p=rng.choice([None, 0.02, 0.05, 0.1, 0.3]),
    )
    mine = ours.filter_stages(lps, **knobs)[-1].probs
    theirs = vllm_probs(lps, knobs["temperature"], knobs["top_p"], knobs["top_k"], knobs["min_p"])
    if [p > 0 for p in mine] != [p > 0 for p in theirs]:
        mismatches.append(knobs)
    worst = max(worst, max(abs(a - b) for a, b in zip(mine, theirs)))
print(json.dumps({"mismatches": mismatches, "max_abs_diff": worst}))
"""


def test_filters_match_vllms_sampler(tmp_path: Path) -> None:
    python = engine_python()
    require(python.exists(), f"vLLM engine venv missing ({python}); run `make engine`")
    script = tmp_path / "crosscheck.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [str(python), str(script), _sampling.__file__],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["mismatches"] == []
    assert report["max_abs_diff"] < 1e-5  # vLLM works in float32
