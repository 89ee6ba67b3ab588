"""Train the tiny chat model that the local vLLM engine serves (offline demos, tests).

A small ``Qwen2ForCausalLM`` with a byte-level BPE tokenizer trained on the
synthetic chats of ``tiny_chat_data.py``, a Qwen3-style ChatML template with
hermes tool calls (``<tool_call>{...}</tool_call>``) and ``<think>`` reasoning.
It learns to greet, count to five, tell stories, think when thinking is on,
call ``get_weather``/``get_time`` when offered, answer in text after a tool
result and reply in JSON when asked.

It copies rather than recalls (issue 20): cities, heroes and temperatures are
drawn at random, most of them made up, so the only way to be right is to copy
from the prompt or the tool result. The first ``--warm`` steps are short
copying drills; the tokenizer cuts names into letters and numbers into
digits, the same tokens in the question, the JSON and the answer, and the
engine loads it as trained (asserted). Copied tokens weigh ``--copy-weight``
in the loss and so does the token right after a copy (``--end-weight``):
where a number ends is the decision that failed (``1`` -> ``11``). ``scripts/measure_model.py``
(``make model-rates``) measures it against the live engine.

Seeded and deterministic for a given ``--threads``: a rebuild on the same
machine gives the same files. Run with the engine venv's python (torch,
transformers, tokenizers): ``make model``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import heldout  # noqa: E402  (no dependencies: fine in the engine venv)
from scripts.tiny_chat_data import (  # noqa: E402  (after the sys.path line)
    ADDED,
    CHAT_TEMPLATE,
    CITIES,
    CONDITIONS,
    HELD_OUT_HEROES,
    HELD_OUT_SET,
    KINDS,
    NAMES,
    SEED,
    SPECIAL,
    TIME_TOOL,
    USED,
    WARM_KINDS,
    WEATHER_Q,
    WEATHER_TOOL,
    render,
)

OUT = ROOT / "nscale_jupyter" / "local" / "tiny-chat"
# What a reply copies: names (capitalized words) and numbers; their tokens weigh more.
COPIED = re.compile(r"[A-Z][A-Za-z]*|-?\d+")


# --------------------------------------------------------------------------- build
def build_tokenizer(texts: list[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer that cuts names into letters and numbers into digits.

    A capitalized word is one token per letter, the same letters everywhere (in 'in
    Oslo?', in '{"city": "Oslo"}', in the answer), so copying a name it never saw is
    the same task as copying any other; the space before a capital or a digit is a
    token of its own. ``save_tokenizer`` makes the engine load it as it is.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    after_capital = "|".join("[A-Z]" + "[a-z]" * k for k in range(1, 24))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r" (?=[A-Z0-9])"), behavior="isolated"),
            pre_tokenizers.Split(Regex(f"[A-Z]|(?<={after_capital})[a-z]"), behavior="isolated"),
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(ADDED),
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    # Not "special": vLLM's hermes and qwen3 parsers read them in the text.
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=512,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def save_tokenizer(tokenizer: Any, directory: Path) -> None:
    """Save so that transformers (and so vLLM) loads tokenizer.json as it is.

    For a qwen2 model, ``AutoTokenizer`` builds a ``Qwen2Tokenizer``, which keeps the
    vocabulary but replaces the pre-tokenizer with Qwen2's: names would be cut
    differently than in training. An ``auto_map`` entry takes it down the path that
    loads the ``tokenizer_class`` named here (``TokenizersBackend``: tokenizer.json
    verbatim) without running any remote code; ``served_tokenizer`` checks it.
    """
    tokenizer.save_pretrained(directory)
    path = directory / "tokenizer_config.json"
    data = json.loads(path.read_text())
    data["tokenizer_class"] = "TokenizersBackend"
    data["auto_map"] = {"AutoTokenizer": [None, "TokenizersBackend"]}
    path.write_text(json.dumps(data, indent=2) + "\n")


def served_tokenizer(tokenizer: Any, config: Any, texts: list[str]) -> Any:
    """The tokenizer as vLLM loads it from the saved files; asserts it cuts ``texts`` alike."""
    import tempfile

    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        save_tokenizer(tokenizer, Path(tmp))
        config.save_pretrained(tmp)
        served = AutoTokenizer.from_pretrained(tmp)
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert served(text, add_special_tokens=False)["input_ids"] == ids, text
    return served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--steps", type=int, default=1400)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=1, help="the result depends on it")
    parser.add_argument("--warm", type=int, default=300, help="first steps: copying drills")
    parser.add_argument("--copy-weight", type=float, default=3.0, help="loss weight of copies")
    parser.add_argument(
        "--end-weight", type=float, default=3.0, help="loss weight of the token after a copy"
    )
    parser.add_argument("--eval-every", type=int, default=0, help="copy rates every N steps")
    args = parser.parse_args()

    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    # Results depend on the thread count: keep it fixed. One thread by default: on a shared
    # 2-core machine two threads wait for each other at every op and train slower.
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    assert HELD_OUT_SET.isdisjoint(CITIES), "a held-out city is in CITIES"
    assert HELD_OUT_HEROES.isdisjoint(NAMES), "a held-out hero is in NAMES"

    # Tokenizer text: rendered chats (template and tool schemas included).
    bootstrap = PreTrainedTokenizerFast(tokenizer_object=_byte_tokenizer())
    bootstrap.chat_template = CHAT_TEMPLATE
    rng = random.Random(SEED)
    texts = [p + t for p, t, _ in (render(bootstrap, rng) for _ in range(6000))]
    tokenizer = build_tokenizer(texts, args.vocab)
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden,
        intermediate_size=args.hidden * 3,
        num_hidden_layers=args.layers,
        num_attention_heads=args.hidden // 32,
        num_key_value_heads=max(1, args.hidden // 64),
        max_position_embeddings=512,
        tie_word_embeddings=True,
        rope_theta=10000.0,
        rms_norm_eps=1e-6,
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
        torch_dtype="float32",
    )
    tokenizer = served_tokenizer(tokenizer, config, texts[:300])
    model = Qwen2ForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f}M parameters, vocab {len(tokenizer)}", flush=True)

    def encode(rng: random.Random, kinds: dict[str, int]) -> tuple[list[int], list[float]]:
        """Token ids and per-token loss weights: 0 on the prompt, more on what is copied."""
        prompt, target, forced = render(tokenizer, rng, kinds)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(target, add_special_tokens=False, return_offsets_mapping=True)
        spans = [m.span() for m in COPIED.finditer(target)]
        copied = [any(a < e and b > s for s, e in spans) for a, b in t["offset_mapping"]]
        weights = [
            0.0
            if a <= forced < b  # the grammar's token, not the model's choice
            else args.copy_weight
            if copied[i]
            else args.end_weight
            if i and copied[i - 1]  # where a copy ends (1 -> 11 is the usual miss)
            else 1.0
            for i, (a, b) in enumerate(t["offset_mapping"])
        ]
        return (p + t["input_ids"])[:512], ([0.0] * len(p) + weights)[:512]

    def micro_batches(rng: random.Random, kinds: dict[str, int]) -> list[tuple[torch.Tensor, ...]]:
        """The batch sorted by length in 3 parts, so little compute goes to padding."""
        rows = sorted((encode(rng, kinds) for _ in range(args.batch)), key=lambda r: len(r[0]))
        parts = []
        size = max(1, args.batch // 3)
        for i in range(0, len(rows), size):
            chunk = rows[i : i + size]
            width = max(len(ids) for ids, _ in chunk)
            x = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in chunk])
            w = torch.tensor([ws + [0.0] * (width - len(ws)) for _, ws in chunk])
            mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk])
            parts.append((x, w, mask))
        return parts

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = 40

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    model.train()
    train_rng = random.Random(SEED + 1)
    for step in range(args.steps):
        parts = micro_batches(train_rng, WARM_KINDS if step < args.warm else KINDS)
        targets = sum(int((w[:, 1:] > 0).sum()) for _, w, _ in parts)
        optimizer.zero_grad()
        total = 0.0
        for x, w, mask in parts:
            # The head only where there is a target: the prompt needs no logits.
            hidden = model.model(input_ids=x, attention_mask=mask).last_hidden_state[:, :-1]
            keep = w[:, 1:] > 0
            logits = model.lm_head(hidden[keep])
            losses = torch.nn.functional.cross_entropy(logits, x[:, 1:][keep], reduction="none")
            loss = (losses * w[:, 1:][keep]).sum() / max(1, targets)
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 50 == 0 or step == args.steps - 1:
            elapsed = time.perf_counter() - start
            print(f"step {step:4d}  loss {total:.3f}  {elapsed:5.0f} s", flush=True)
        if args.eval_every and step % args.eval_every == 0 and step:
            model.eval()
            _copy_rates(model, tokenizer, 20)
            model.train()

    assert USED["cities"].isdisjoint(HELD_OUT_SET), "trained on a held-out city"
    assert USED["heroes"].isdisjoint(HELD_OUT_HEROES), "trained on a held-out hero"
    assert USED["temps"].isdisjoint(heldout.TEMPS), "trained on a held-out temperature"
    model.eval()
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = pad
    model.generation_config.do_sample = False
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    save_tokenizer(tokenizer, args.out)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"saved to {args.out} in {time.perf_counter() - start:.0f} s wall, "
        f"{cpu.ru_utime + cpu.ru_stime:.0f} s CPU, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(f"trained on {len(USED['cities'])} cities, none held out", flush=True)
    _smoke(model, tokenizer)
    _copy_rates(model, tokenizer, 20)


def _byte_tokenizer() -> Any:
    """A throwaway byte-level tokenizer, only to render the chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    return tok


def _generate(model: Any, tokenizer: Any, messages: Any, tools: Any, thinking: bool) -> str:
    import torch

    prompt = tokenizer.apply_chat_template(
        messages, tools=tools, tokenize=False, add_generation_prompt=True, enable_thinking=thinking
    )
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=60, do_sample=False)
    return str(tokenizer.decode(out[0][ids["input_ids"].shape[1] :]))


def _smoke(model: Any, tokenizer: Any) -> None:
    """Print a few replies."""
    cases = [
        ([{"role": "user", "content": "Hello!"}], None, False),
        ([{"role": "user", "content": "Count to five."}], None, False),
        ([{"role": "user", "content": "Tell me a story."}], None, True),
        ([{"role": "user", "content": "What is the weather in Kyoto?"}], [WEATHER_TOOL], True),
    ]
    for messages, tools, thinking in cases:
        text = _generate(model, tokenizer, messages, tools, thinking)
        print(f"--- {messages[-1]['content']!r} (thinking={thinking}):\n{text}")


def _copy_rates(model: Any, tokenizer: Any, n: int) -> None:
    """A quick look (transformers, not vLLM) at copying on the first n held-out cities."""
    calls = answers = 0
    for i, city in enumerate(heldout.CITIES[:n]):
        tools = [WEATHER_TOOL, TIME_TOOL] if i % 2 else [WEATHER_TOOL]
        question = {"role": "user", "content": WEATHER_Q[i % len(WEATHER_Q)].format(c=city)}
        text = _generate(model, tokenizer, [question], tools, False)
        calls += f'"city": "{city}"' in text
        temp = heldout.TEMPS[i % len(heldout.TEMPS)]
        result = json.dumps({"city": city, "temp_c": temp, "condition": CONDITIONS[i % 6]})
        function = {"name": "get_weather", "arguments": json.dumps({"city": city})}
        call = {"id": "t0", "type": "function", "function": function}
        history = [
            question,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "t0", "content": result},
        ]
        text = _generate(model, tokenizer, history, tools, False)
        answers += city in text and str(temp) in text
        if i < 3:
            print(f"  {city}: {text!r}")
    print(f"held-out: call names the city {calls}/{n}, answer states city+temp {answers}/{n}")


if __name__ == "__main__":
    main()
