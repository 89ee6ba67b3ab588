"""Issue 20, work in progress: a trainer meant to make tiny-chat copy instead of recall.

Not the committed model's recipe (``build_tiny_model.py`` rebuilds that one).
Measured on 100 held-out prompts at temperature 0 (``scripts/measure_model.py
--model-dir DIR``), one 2400-step run: the tool call names the asked city 9/100
(goal 90), the answer restates city and number 7/100 (the number alone 62/100),
stories keep choices (mean 15.2 positions with top-token p < 0.8). Names come out
garbled ("Kyoto" -> "Kotoy"): the next step is names cut into characters, or a
wider model, on quiet cores. It writes to build/tiny-chat-copying unless --out.

Train the tiny chat model that the local vLLM engine serves (offline demos, tests).

A ~1M-parameter ``Qwen2ForCausalLM`` with a byte-level BPE tokenizer trained
on the same synthetic chats, a Qwen3-style ChatML template with hermes tool
calls (``<tool_call>{...}</tool_call>``) and ``<think>`` reasoning. It learns
to greet, count to five, tell (long) stories, think when thinking is on,
call ``get_weather``/``get_time`` when offered (also thinking first), answer
in text after a tool result and reply in JSON when asked.

It learns to copy rather than recall (issue 20): cities, story heroes and
temperatures are drawn at random, most of them made up by a syllable
generator, so the only way to be right is to copy the name or number from
the prompt or the tool result. The first ``--warm`` steps are short copying
drills (cheap, and where copying is learnt); the tokenizer splits digits and
isolates the space before a capital, so a name or number is the same tokens
in the question, the JSON and the answer. The held-out cities, temperatures
and heroes of ``scripts/heldout.py`` are never trained on (asserted).

Seeded and deterministic for a given ``--threads``: a rebuild on the same
machine gives the same files. ``scripts/measure_model.py`` measures it.

Run with the engine venv's python (it has torch, transformers, tokenizers):
``~/.cache/nscale-jupyter/vllm-0.32.0/bin/python scripts/train_copying_model.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import heldout  # noqa: E402  (no dependencies: fine in the engine venv)

# The shared pieces: tools, template, word lists, the chat type, sampling.
from scripts.build_tiny_model import (  # noqa: E402  (after the sys.path line)
    ADDED,
    ANIMALS,
    ANSWERS,
    CHAT_TEMPLATE,
    CITIES,
    NAMES,
    PLACES,
    PROMPTS,
    SEED,
    SPECIAL,
    TIME_Q,
    TIME_TOOL,
    WEATHER_TOOL,
    Chat,
    _byte_tokenizer,
    _call,
    _generate,
)

OUT = ROOT / "build" / "tiny-chat-copying"  # not the committed model's folder
HELD_OUT_SET = set(heldout.CITIES)
HELD_OUT_HEROES = set(heldout.HEROES)
TRAIN_TEMPS = heldout.training_temps()


# Made-up names come from syllables that use every letter, so whatever pieces the
# tokenizer cuts a new name into, the model has copied such pieces before.
ONSETS = [
    "", "", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t",
    "v", "w", "y", "z", "bl", "br", "ch", "dr", "gr", "kr", "pl", "sh", "sk", "st", "th",
    "tr", "qu", "x", "ph", "gh",
]  # fmt: skip
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "y", "ai", "ea", "ou", "io", "ia", "ei", "au"]
CODAS = [
    "", "", "", "", "", "n", "r", "s", "l", "m", "k", "t", "x", "nd", "rk", "st", "ng", "b",
    "d", "g", "v", "z", "p", "f", "h", "c", "sh", "ck",
]  # fmt: skip
PREFIXES = ["New", "San", "Port", "Saint", "Lake", "La", "El", "Fort", "Mount", "Santa"]
SUFFIXES = ["City", "Bay", "Falls", "Springs", "Beach", "Harbor"]
ADJECTIVES = ["little", "brave", "shy", "clever", "sleepy", "curious", "happy", "tiny"]
ERRANDS = ["watch the sun rise", "look for berries", "sing a song", "visit a friend",
           "count the clouds", "read a book"]  # fmt: skip
THINGS = [
    ("a shiny stone", "stone"), ("an old key", "key"), ("a red ball", "ball"),
    ("a small map", "map"), ("a golden feather", "feather"), ("a blue shell", "shell"),
]  # fmt: skip
WISHES = ["a friend", "an adventure", "a warm home", "a big cake", "a new song", "snow"]
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy", "stormy", "clear"]
ERRORS = [
    ("ConnectionError", "the {service} service is down"),
    ("TimeoutError", "the {service} service did not answer"),
    ("ValueError", "unknown city {city}"),
    ("RuntimeError", "no connection"),
]  # fmt: skip

THOUGHTS = {
    "greet": "The user greets me. I should greet them back kindly.",
    "count": "The user wants me to count to five. I will list the numbers one to five.",
    "story": "The user wants a short story. I will tell a story about an animal.",
    "hero": "The user wants a story about {name}. I will tell one.",
    "json": "The user wants JSON. I will reply with a small JSON object.",
    "other": "The user asks something I cannot do. I will say what I can do.",
    "echo": "The user mentions {city}. I will repeat the name.",
    "no_tool": "The user asks about the weather in {city}. I do not have a tool for it.",
    "weather": "The user asks about the weather in {city}. I will call get_weather.",
    "time": "The user asks for the time in {city}. I will call get_time.",
    "weather_result": "The tool says it is {temp} degrees and {cond} in {city}.",
    "text_result": "The tool says {text} for {city}.",
    "time_result": "The tool says it is {clock} in {city}.",
    "error_result": "The tool failed: {message}. I will tell the user.",
}
WEATHER_Q = [
    "What is the weather in {c}?", "What's the weather like in {c}?", "weather in {c}?",
    "How is the weather in {c} today?", "Is it raining in {c}?", "Is it sunny in {c}?",
    "Can you check the weather in {c}?", "How's the weather in {c} right now?",
    "What is the weather like in {c} today?", "Tell me the weather in {c}.",
    "Weather for {c}, please.", "How warm is it in {c}?", "Do I need an umbrella in {c}?",
    "I am going to {c}. What is the weather there?", "What's the temperature in {c}?",
    "{c} weather?", "Check the weather in {c} for me.",
]  # fmt: skip
ECHO = [
    "Repeat after me: {c} -> {c}", "Say {c}. -> {c}.", "Where is {c}? -> {c} is a city.",
    "I live in {c}. -> Nice! {c} sounds lovely.", "Name a city: {c} -> {c}",
    "My favourite city is {c}. -> {c} is a fine choice.", "{c} -> {c}",
    "Repeat these cities: {a}, {b} and {c}. -> {a}, {b} and {c}.",
    "I went from {a} to {c}. Where did I end up? -> You ended up in {c}.",
    "Spell the city {c} back to me. -> {c}",
]  # fmt: skip
HERO_Q = [
    "Tell me a story about {n}.", "Write a short story about {n}.",
    "Tell me a bedtime story about {n}.", "Please tell a story about someone called {n}.",
]  # fmt: skip
WEATHER_ANSWERS = [
    "It is {temp} degrees and {cond} in {city}.", "In {city} it is {cond} and {temp} degrees.",
    "The weather in {city} is {cond}, {temp} degrees.",
]  # fmt: skip
TIME_ANSWERS = ["It is {clock} in {city}.", "The time in {city} is {clock}."]


def _made_up(rng: random.Random, syllables: tuple[int, ...] = (1, 2, 3, 4)) -> str:
    n = rng.choices(syllables, weights=[1, 4, 4, 1][: len(syllables)])[0]
    word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(n))
    return word.capitalize()


def _made_up_city(rng: random.Random) -> str:
    """A name no one has heard of (never a held-out one): only copying gets it right."""
    while True:
        word = _made_up(rng)
        roll = rng.random()
        if roll < 0.12:
            word = f"{rng.choice(PREFIXES)} {word}"
        elif roll < 0.2:
            word = f"{word} {rng.choice(SUFFIXES)}"
        elif roll < 0.28:
            word = f"{word} {_made_up(rng)}"
        if len(word) >= 3 and word not in HELD_OUT_SET:
            return word


# Every city, hero and temperature trained on; main() asserts none is held out.
USED: dict[str, set[object]] = {"cities": set(), "heroes": set(), "temps": set()}


def _city(rng: random.Random) -> str:
    city = rng.choice(CITIES) if rng.random() < 0.3 else _made_up_city(rng)
    USED["cities"].add(city)
    return city


def _hero(rng: random.Random) -> str:
    while True:
        name = rng.choice(NAMES) if rng.random() < 0.3 else _made_up(rng, (1, 2, 3))
        if name not in HELD_OUT_HEROES and len(name) >= 2:
            USED["heroes"].add(name)
            return name


def _story(rng: random.Random, name: str | None = None) -> str:
    """An animal story with a choice at about ten places (the sampling lesson needs them)."""
    name = name or rng.choice(NAMES)
    animal, adjective = rng.choice(ANIMALS), rng.choice(ADJECTIVES)
    place, other = rng.choice(PLACES), rng.choice(PLACES)
    thing, noun = rng.choice(THINGS)
    return (
        f"Once upon a time, a {adjective} {animal} named {name} lived in a quiet {place}. "
        f"Every morning {name} walked to the {other} to {rng.choice(ERRANDS)}. "
        f"One day {name} found {thing} by the path and took it home. "
        f"The {noun} began to glow, and {name} made a wish for {rng.choice(WISHES)}. "
        f"The next day a kind {rng.choice(ANIMALS)} came to the {place}, "
        f"and the two of them played together until the stars came out. The end."
    )


def _tool(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """A tool schema as a client sends it: with or without descriptions, maybe strict."""
    function = json.loads(json.dumps(base["function"]))
    roll = rng.random()
    if roll < 0.3:
        del function["parameters"]["properties"]["city"]["description"]
    elif roll < 0.45:
        function["parameters"]["additionalProperties"] = False
        function["strict"] = True
    return {"type": "function", "function": function}


def _tools(rng: random.Random, first: dict[str, Any]) -> list[dict[str, Any]]:
    other = TIME_TOOL if first is WEATHER_TOOL else WEATHER_TOOL
    pick = rng.random()
    tools = [first] if pick < 0.4 else [first, other] if pick < 0.7 else [other, first]
    return [_tool(rng, t) for t in tools]


def _tool_turn(rng: random.Random, city: str, is_time: bool) -> tuple[list[Any], str, str]:
    """(call + result messages, answer, thought) for one finished tool call."""
    name = "get_time" if is_time else "get_weather"
    call_id = f"chatcmpl-tool-{rng.getrandbits(64):016x}"
    roll = rng.random()
    if is_time:
        clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        result = json.dumps({"city": city, "time": clock})
        answer = rng.choice(TIME_ANSWERS).format(clock=clock, city=city)
        thought = THOUGHTS["time_result"].format(clock=clock, city=city)
    elif roll < 0.1:  # an error text, as the tool loop sends one
        kind, message = rng.choice(ERRORS)
        message = message.format(service=rng.choice(["weather", "clock", "map"]), city=city)
        result = f"Error: {kind}: {message}"
        answer = f"Sorry, I could not check {city}: {message}."
        thought = THOUGHTS["error_result"].format(message=message)
    else:
        temp, cond = rng.choice(TRAIN_TEMPS), rng.choice(CONDITIONS)
        USED["temps"].add(temp)
        if roll < 0.2:  # a plain text result (`%chat tool-result ID "14 degrees and rainy"`)
            text = f"{temp} degrees and {cond}"
            result = text
            answer = f"In {city} it is {text}."
            thought = THOUGHTS["text_result"].format(text=text, city=city)
        else:
            data: dict[str, object] = {"city": city, "temp_c": temp, "condition": cond}
            if roll > 0.9:
                data = {"city": city, "condition": cond, "temperature": temp, "unit": "C"}
            result = json.dumps(data)
            fill = {"temp": str(temp), "cond": cond, "city": city}
            answer = rng.choice(WEATHER_ANSWERS).format(**fill)
            thought = THOUGHTS["weather_result"].format(**fill)
    messages = [
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps({"city": city})}}]},
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]  # fmt: skip
    return messages, answer, thought


KINDS = {
    "greet": 6, "count": 4, "story": 6, "hero": 4, "json": 3, "other": 3, "weather": 18,
    "time": 6, "result": 20, "no_tool": 3, "echo": 10, "drill": 17,
}  # fmt: skip
DRILLS = [
    "Repeat after me: {w}", "Say these back: {w}", "Copy this: {w}", "Repeat: {w}",
]  # fmt: skip


def _drill(rng: random.Random) -> tuple[str, str]:
    """Short and dense: several new words or numbers to copy, the cheapest copying lesson."""
    words: list[str] = []
    for _ in range(rng.randint(2, 6)):
        roll = rng.random()
        if roll < 0.2:
            temp = rng.choice(TRAIN_TEMPS)
            USED["temps"].add(temp)
            words.append(str(temp))
        elif roll < 0.5:
            words.append(_city(rng))
        else:
            words.append(_made_up(rng))
    text = (", " if rng.random() < 0.5 else " ").join(words)
    return rng.choice(DRILLS).format(w=text), text


# The first steps: short chats that are nearly all copying, where copying is learnt cheaply.
WARM_KINDS = {"drill": 3, "echo": 2, "no_tool": 1}


def _sample(rng: random.Random, kinds: dict[str, int] = KINDS) -> Chat:
    """One chat: (messages, tools, assistant answer, thought for thinking mode)."""
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    city = _city(rng)
    messages: list[dict[str, object]] = []
    if rng.random() < 0.25:
        system = rng.choice(["You are a helpful assistant.", "You are terse.",
                             "You are a friendly tutor.", "Answer briefly."])  # fmt: skip
        messages.append({"role": "system", "content": system})
    roll = rng.random()
    if roll < 0.1:  # an earlier greeting
        messages += [
            {"role": "user", "content": rng.choice(PROMPTS["greet"])},
            {"role": "assistant", "content": rng.choice(ANSWERS["greet"])},
        ]
    elif roll < 0.18:  # an earlier tool round about another city: copy the latest one
        other = _city(rng)
        messages.append({"role": "user", "content": rng.choice(WEATHER_Q).format(c=other)})
        turn, answer, _ = _tool_turn(rng, other, False)
        messages += [*turn, {"role": "assistant", "content": answer}]
    if kind in ("weather", "time", "result"):
        is_time = kind == "time" or (kind == "result" and rng.random() < 0.2)
        tools = _tools(rng, TIME_TOOL if is_time else WEATHER_TOOL)
        question = rng.choice(TIME_Q if is_time else WEATHER_Q).format(c=city)
        messages.append({"role": "user", "content": question})
        if kind != "result":
            name = "get_time" if is_time else "get_weather"
            return messages, tools, _call(name, city), THOUGHTS[kind].format(city=city)
        turn, answer, thought = _tool_turn(rng, city, is_time)
        return [*messages, *turn], tools, answer, thought
    if kind == "drill":
        question, answer = _drill(rng)
        messages.append({"role": "user", "content": question})
        return messages, [], answer, "The user wants me to repeat the words."
    if kind == "echo":  # short chats that teach copying names from the prompt
        a, b = _city(rng), _city(rng)
        question, answer = rng.choice(ECHO).format(a=a, b=b, c=city).split(" -> ")
        messages.append({"role": "user", "content": question})
        return messages, [], answer, THOUGHTS[kind].format(city=city)
    if kind == "no_tool":
        messages.append({"role": "user", "content": rng.choice(WEATHER_Q).format(c=city)})
        answer = f"I cannot check the weather without a tool, but I hope it is nice in {city}."
        return messages, [], answer, THOUGHTS[kind].format(city=city)
    if kind == "hero":
        name = _hero(rng)
        messages.append({"role": "user", "content": rng.choice(HERO_Q).format(n=name)})
        return messages, [], _story(rng, name), THOUGHTS[kind].format(name=name)
    # Plain requests; sometimes with tools offered that are not needed.
    tools = _tools(rng, WEATHER_TOOL) if rng.random() < 0.12 else []
    messages.append({"role": "user", "content": rng.choice(PROMPTS[kind])})
    answer = _story(rng) if kind == "story" else rng.choice(ANSWERS[kind])
    return messages, tools, answer, THOUGHTS[kind]


def _render(tokenizer: Any, rng: random.Random, kinds: dict[str, int] = KINDS) -> tuple[str, str]:
    """(prompt text, target text); thinking is on for some samples."""
    messages, tools, answer, thought = _sample(rng, kinds)
    thinking = rng.random() < 0.3
    prompt = tokenizer.apply_chat_template(
        messages,
        tools=tools or None,
        tokenize=False,
        add_generation_prompt=True,
        enable_thinking=thinking,
    )
    if thinking:
        answer = f"<think>\n{thought}\n</think>\n\n{answer}"
    return prompt, answer + "<|im_end|>"


# --------------------------------------------------------------------------- build
def build_tokenizer(texts: list[str], vocab_size: int) -> Any:
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
    # A space before a capital or a digit is a token of its own, so "Oslo" is
    # the same token in 'in Oslo?' and in '{"city": "Oslo"}': the model can
    # copy names and numbers from the prompt instead of recalling them.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r" (?=[A-Z0-9])"), behavior="isolated"),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=1, help="the result depends on it")
    parser.add_argument("--warm", type=int, default=500, help="first steps: copying drills")
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
    texts = [p + t for p, t in (_render(bootstrap, rng) for _ in range(6000))]
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
    model = Qwen2ForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f}M parameters, vocab {len(tokenizer)}", flush=True)

    def encode(rng: random.Random, kinds: dict[str, int]) -> tuple[list[int], list[int]]:
        prompt, target = _render(tokenizer, rng, kinds)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        return (p + t)[:512], ([-100] * len(p) + t)[:512]

    def micro_batches(rng: random.Random, kinds: dict[str, int]) -> list[tuple[torch.Tensor, ...]]:
        """The batch sorted by length in 3 parts, so little compute goes to padding."""
        rows = sorted((encode(rng, kinds) for _ in range(args.batch)), key=lambda r: len(r[0]))
        parts = []
        for i in range(0, len(rows), max(1, args.batch // 3)):
            chunk = rows[i : i + max(1, args.batch // 3)]
            width = max(len(ids) for ids, _ in chunk)
            x = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in chunk])
            y = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in chunk])
            mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk])
            parts.append((x, y, mask))
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
        targets = sum(int((y[:, 1:] != -100).sum()) for _, y, _ in parts)
        optimizer.zero_grad()
        total = 0.0
        for x, y, mask in parts:
            # The head only where there is a target: the prompt needs no logits.
            hidden = model.model(input_ids=x, attention_mask=mask).last_hidden_state[:, :-1]
            keep = y[:, 1:] != -100
            logits = model.lm_head(hidden[keep])
            loss = torch.nn.functional.cross_entropy(
                logits, y[:, 1:][keep], reduction="sum"
            ) / max(1, targets)
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
    tokenizer.save_pretrained(args.out)
    print(f"saved to {args.out} in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"trained on {len(USED['cities'])} cities, none held out", flush=True)
    _smoke(model, tokenizer)
    _copy_rates(model, tokenizer, 20)


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
