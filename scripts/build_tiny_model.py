"""Train the tiny chat model that the local vLLM engine serves (offline demos, tests).

A ~1M-parameter ``Qwen2ForCausalLM`` with a byte-level BPE tokenizer trained
on the same synthetic chats, a Qwen3-style ChatML template with hermes tool
calls (``<tool_call>{...}</tool_call>``) and ``<think>`` reasoning. It learns
to greet, count to five, tell (long) stories, think when thinking is on,
call ``get_weather``/``get_time`` when offered (also thinking first), answer
in text after a tool result and reply in JSON when asked. It does not copy
names: the ``city`` it passes, and the numbers it reports from a tool result,
are plausible but usually not the ones in the prompt.

Seeded, with 2 torch threads: a rebuild on the same machine gives the same
files. About 5 minutes on 2 idle cores (700 steps), 10 when they are busy.

Run with the engine venv's python (it has torch, transformers, tokenizers):
``make model`` or ``~/.cache/nscale-jupyter/vllm-0.32.0/bin/python scripts/build_tiny_model.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "nscale_jupyter" / "local" / "tiny-chat"
SEED = 1234

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name."}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the local time in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name."}},
            "required": ["city"],
        },
    },
}

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ADDED = [
    "<think>",
    "</think>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
]

# Qwen3-style ChatML. Thinking off writes an empty think block, as Qwen3's does.
CHAT_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    "{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name "
    "and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n"
    '{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n'
    "</tool_call><|im_end|>\\n' }}"
    "{%- elif messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' %}"
    "{{- '<|im_start|>user\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if message.content %}{{- message.content }}{%- endif %}"
    "{%- for tc in message.tool_calls or [] %}"
    "{%- set f = tc.function if tc.function is defined else tc %}"
    "{%- if loop.first and message.content %}{{- '\\n' }}{%- endif %}"
    '{{- \'<tool_call>\\n{"name": "\' + f.name + \'", "arguments": \' }}'
    "{%- if f.arguments is string %}{{- f.arguments }}{%- else %}{{- f.arguments | tojson }}"
    "{%- endif %}"
    "{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message.content + "
    "'\\n</tool_response><|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)


# --------------------------------------------------------------------------- data
CITIES = [
    "Paris", "London", "Berlin", "Madrid", "Rome", "Oslo", "Tokyo", "Lisbon", "Vienna",
    "Dublin", "Prague", "Athens", "Cairo", "Lima", "Quito", "Seoul", "Delhi", "Sydney",
    "Toronto", "Boston", "Denver", "Austin", "Chicago", "Miami", "Zurich", "Geneva",
    "Munich", "Milan", "Naples", "Warsaw", "Helsinki", "Stockholm", "Edinburgh", "Glasgow",
    "New York", "San Francisco", "Los Angeles", "Buenos Aires", "Mexico City", "Cape Town",
    "Hong Kong", "Tel Aviv", "Rio de Janeiro", "Amsterdam", "Brussels", "Budapest", "Krakow",
    "Seville", "Porto", "Lyon", "Marseille", "Hamburg", "Copenhagen", "Bergen", "Riga",
    "Vilnius", "Tallinn", "Sofia", "Bucharest", "Istanbul", "Dubai", "Mumbai", "Bangkok",
    "Singapore", "Manila", "Jakarta", "Beijing", "Shanghai", "Osaka", "Melbourne", "Perth",
    "Auckland", "Vancouver", "Montreal", "Seattle", "Portland", "Dallas", "Houston",
    "Atlanta", "Phoenix", "Havana", "Bogota", "Santiago", "Caracas", "Accra", "Dakar",
    "Tunis", "Casablanca", "Doha", "Tehran", "Karachi", "Dhaka", "Taipei", "Busan",
]  # fmt: skip
# Never trained on: the report of how well the model copies names it has not seen.
HELD_OUT = ["Kyoto", "Reykjavik", "Nairobi", "Hanoi", "Lagos", "Valencia", "Salzburg", "Turin"]
SYLLABLES = [
    "ka", "lo", "mi", "ra", "ven", "tor", "sa", "bel", "dun", "ar", "is", "on", "el", "fa",
    "gri", "mo", "ne", "quo", "ri", "sta", "ul", "var", "wen", "zi", "bra", "cor", "den",
    "ho", "ju", "lin", "mar", "nor", "pe", "ros", "tal", "vik", "yo", "ber", "gan", "shi",
]  # fmt: skip
NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lea"]
ANIMALS = ["cat", "fox", "owl", "dog", "bear", "duck", "frog", "horse", "mouse", "whale"]
PLACES = ["forest", "village", "castle", "river", "garden", "mountain", "city", "island"]
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy"]

PROMPTS = {
    "greet": ["Hello!", "Hi", "Hi there!", "Hey", "Good morning!", "Good evening!",
              "Hello, who are you?", "Who are you?", "Hey there", "hello", "hi!", "Greetings!",
              "Hey, how are you?", "How are you?", "Hello there, friend.", "Howdy!", "Yo",
              "Good afternoon.", "Hi, what can you do?", "What can you do?"],
    "count": ["Count to five.", "Please count to five.", "count to 5", "Count to 5, please.",
              "Can you count to five?", "Count from one to five.", "count to five",
              "Can you count from 1 to 5?", "Count from 1 to 5.", "Let's count to five!",
              "List the numbers from one to five."],
    "story": ["Tell me a story.", "Tell me a short story.", "Write a story.", "Story please!",
              "Once upon a time...", "tell me a story about an animal", "Please tell a story.",
              "Can you tell me a bedtime story?", "Tell me a story about a dragon.",
              "Write a short story about a cat.", "I want a story."],
    "json": ["Reply in JSON.", "Say hello in JSON.", "Answer in JSON: what is your name?",
             "Give me a JSON object.", "Respond with JSON only.",
             "What is your name? Reply in JSON.", "Reply in JSON with a greeting.",
             "Output a JSON object with your name."],
    "other": ["What is the capital of France?", "Explain quantum physics.", "Who won the game?",
              "What is 17 times 3?", "Write a poem.", "Translate this to German.",
              "What day is it?", "Help me with my homework."],
}  # fmt: skip
ANSWERS = {
    "greet": ["Hello! How can I help you today?", "Hi! Nice to meet you.",
              "Hello! I am a tiny model. How can I help?", "Hi there! What can I do for you?"],
    "count": ["1, 2, 3, 4, 5."],
    "json": ['{"answer": "hello", "model": "tiny-chat"}', '{"greeting": "hello"}',
             '{"name": "tiny-chat"}'],
    "other": ["I am a tiny model. I can greet you, count to five, tell a story "
              "and check the weather with a tool."],
}  # fmt: skip
THOUGHTS = {
    "greet": "The user greets me. I should greet them back kindly.",
    "count": "The user wants me to count to five. I will list the numbers one to five.",
    "story": "The user wants a short story. I will tell a story about an animal.",
    "json": "The user wants JSON. I will reply with a small JSON object.",
    "other": "The user asks something I cannot do. I will say what I can do.",
    "echo": "The user mentions {city}. I will repeat the name.",
    "no_tool": "The user asks about the weather in {city}. I do not have a tool for it.",
    "weather": "The user asks about the weather in {city}. I will call get_weather.",
    "time": "The user asks for the time in {city}. I will call get_time.",
    "weather_result": "The tool says it is {temp} degrees and {cond} in {city}.",
    "time_result": "The tool says it is {clock} in {city}.",
}
WEATHER_Q = [
    "What is the weather in {c}?", "What's the weather like in {c}?", "weather in {c}?",
    "How is the weather in {c} today?", "Is it raining in {c}?", "Is it sunny in {c}?",
    "Can you check the weather in {c}?", "How's the weather in {c} right now?",
    "What is the weather like in {c} today?", "Tell me the weather in {c}.",
    "Weather for {c}, please.", "How warm is it in {c}?", "Do I need an umbrella in {c}?",
    "I am going to {c}. What is the weather there?", "What's the temperature in {c}?",
]  # fmt: skip
ECHO = [
    "Repeat after me: {c} -> {c}", "Say {c}. -> {c}.", "Where is {c}? -> {c} is a city.",
    "I live in {c}. -> Nice! {c} sounds lovely.", "Name a city: {c} -> {c}",
    "My favourite city is {c}. -> {c} is a fine choice.", "{c} -> {c}",
]  # fmt: skip
TIME_Q = [
    "What time is it in {c}?", "What is the time in {c}?", "Tell me the local time in {c}.",
    "What's the time in {c} now?", "time in {c}?", "Can you tell me the time in {c}?",
    "Is it late in {c}?", "What is the local time in {c}?",
]  # fmt: skip


def _made_up_city(rng: random.Random) -> str:
    """A name no one has heard of, so the model learns to copy rather than recall."""
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    roll = rng.random()
    if roll < 0.15:
        return f"{rng.choice(['New', 'San', 'Port', 'Saint', 'Lake'])} {word}"
    if roll < 0.25:
        return f"{word} {rng.choice(['City', 'Bay', 'Falls'])}"
    return word


def _city(rng: random.Random) -> str:
    return rng.choice(CITIES) if rng.random() < 0.5 else _made_up_city(rng)


def _story(rng: random.Random) -> str:
    name, animal = rng.choice(NAMES), rng.choice(ANIMALS)
    place, other = rng.choice(PLACES), rng.choice(PLACES)
    return (
        f"Once upon a time, a little {animal} named {name} lived in a quiet {place}. "
        f"Every morning {name} walked to the {other} to watch the sun rise. "
        f"One day {name} found a shiny stone by the path and took it home. "
        f"The stone began to glow, and {name} made a wish for a friend. "
        f"The next day a kind {rng.choice(ANIMALS)} came to the {place}, "
        f"and the two of them played together until the stars came out. The end."
    )


def _call(name: str, city: str) -> str:
    return f'<tool_call>\n{{"name": "{name}", "arguments": {{"city": "{city}"}}}}\n</tool_call>'


Chat = tuple[list[dict[str, object]], list[dict[str, object]], str, str]


def _sample(rng: random.Random) -> Chat:
    """One chat: (messages, tools, assistant answer, thought for thinking mode)."""
    kind = rng.choices(
        [
            "greet",
            "count",
            "story",
            "json",
            "other",
            "weather",
            "time",
            "result",
            "no_tool",
            "echo",
        ],
        weights=[10, 8, 8, 6, 4, 22, 9, 18, 5, 14],
    )[0]
    city = _city(rng)
    messages: list[dict[str, object]] = []
    if rng.random() < 0.25:
        system = rng.choice(["You are a helpful assistant.", "You are terse.",
                             "You are a friendly tutor.", "Answer briefly."])  # fmt: skip
        messages.append({"role": "system", "content": system})
    if rng.random() < 0.15:  # some earlier turns
        messages += [
            {"role": "user", "content": rng.choice(PROMPTS["greet"])},
            {"role": "assistant", "content": rng.choice(ANSWERS["greet"])},
        ]
    both = [[WEATHER_TOOL, TIME_TOOL], [TIME_TOOL, WEATHER_TOOL]]
    if kind in ("weather", "time", "result"):
        is_time = kind == "time" or (kind == "result" and rng.random() < 0.3)
        name = "get_time" if is_time else "get_weather"
        tools = rng.choice([[TIME_TOOL if is_time else WEATHER_TOOL], *both])
        question = rng.choice(TIME_Q if is_time else WEATHER_Q).format(c=city)
        messages.append({"role": "user", "content": question})
        if kind != "result":
            return messages, tools, _call(name, city), THOUGHTS[kind].format(city=city)
        call_id = f"chatcmpl-tool-{rng.getrandbits(64):016x}"
        if is_time:
            clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
            result = json.dumps({"city": city, "time": clock})
            answer = rng.choice(["It is {clock} in {city}.", "The time in {city} is {clock}."])
            thought = THOUGHTS["time_result"]
            fill = {"clock": clock, "city": city}
        else:
            temp, cond = rng.randint(-5, 35), rng.choice(CONDITIONS)
            result = json.dumps({"city": city, "temp_c": temp, "condition": cond})
            answer = rng.choice(
                ["It is {temp} degrees and {cond} in {city}.",
                 "In {city} it is {cond} and {temp} degrees."]
            )  # fmt: skip
            thought = THOUGHTS["weather_result"]
            fill = {"temp": str(temp), "cond": cond, "city": city}
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": call_id, "type": "function",
                "function": {"name": name, "arguments": json.dumps({"city": city})}}]},
            {"role": "tool", "tool_call_id": call_id, "content": result},
        ]  # fmt: skip
        return messages, tools, answer.format(**fill), thought.format(**fill)
    if kind == "echo":  # short chats that teach copying a name from the prompt
        question, answer = rng.choice(ECHO).format(c=city).split(" -> ")
        messages.append({"role": "user", "content": question})
        return messages, [], answer, THOUGHTS[kind].format(city=city)
    if kind == "no_tool":
        messages.append({"role": "user", "content": rng.choice(WEATHER_Q).format(c=city)})
        answer = f"I cannot check the weather without a tool, but I hope it is nice in {city}."
        return messages, [], answer, THOUGHTS[kind].format(city=city)
    # Plain requests; sometimes with tools offered that are not needed.
    tools = rng.choice([[WEATHER_TOOL], *both]) if rng.random() < 0.12 else []
    messages.append({"role": "user", "content": rng.choice(PROMPTS[kind])})
    answer = _story(rng) if kind == "story" else rng.choice(ANSWERS[kind])
    return messages, tools, answer, THOUGHTS[kind]


def _render(tokenizer: Any, rng: random.Random) -> tuple[str, str]:
    """(prompt text, target text); thinking is on for some samples."""
    messages, tools, answer, thought = _sample(rng)
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
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--vocab", type=int, default=2048)
    args = parser.parse_args()

    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)  # results depend on the thread count: keep it fixed
    start = time.perf_counter()

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
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
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

    def encode(rng: random.Random) -> tuple[list[int], list[int]]:
        prompt, target = _render(tokenizer, rng)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        return (p + t)[:512], ([-100] * len(p) + t)[:512]

    def micro_batches(rng: random.Random) -> list[tuple[torch.Tensor, ...]]:
        """The batch sorted by length in 3 parts, so little compute goes to padding."""
        rows = sorted((encode(rng) for _ in range(args.batch)), key=lambda r: len(r[0]))
        parts = []
        for i in range(0, len(rows), max(1, args.batch // 3)):
            chunk = rows[i : i + max(1, args.batch // 3)]
            width = max(len(ids) for ids, _ in chunk)
            x = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in chunk])
            y = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in chunk])
            mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk])
            parts.append((x, y, mask))
        return parts

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
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
        parts = micro_batches(train_rng)
        targets = sum(int((y[:, 1:] != -100).sum()) for _, y, _ in parts)
        optimizer.zero_grad()
        total = 0.0
        for x, y, mask in parts:
            logits = model(input_ids=x, attention_mask=mask).logits[:, :-1]
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y[:, 1:].reshape(-1), reduction="sum"
            ) / max(1, targets)
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 50 == 0 or step == args.steps - 1:
            elapsed = time.perf_counter() - start
            print(f"step {step:4d}  loss {total:.3f}  {elapsed:5.0f} s", flush=True)

    model.eval()
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = pad
    model.generation_config.do_sample = False
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    print(f"saved to {args.out} in {time.perf_counter() - start:.0f} s", flush=True)
    _smoke(model, tokenizer)


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
    """Print a few replies, and how often a tool call copies an unseen city."""
    cases = [
        ([{"role": "user", "content": "Hello!"}], None, False),
        ([{"role": "user", "content": "Count to five."}], None, False),
        ([{"role": "user", "content": "Tell me a story."}], None, True),
        ([{"role": "user", "content": "What is the weather in Kyoto?"}], [WEATHER_TOOL], True),
    ]
    for messages, tools, thinking in cases:
        text = _generate(model, tokenizer, messages, tools, thinking)
        print(f"--- {messages[-1]['content']!r} (thinking={thinking}):\n{text}")
    copied = 0
    for i, city in enumerate(HELD_OUT):
        tools = [WEATHER_TOOL, TIME_TOOL] if i % 2 else [WEATHER_TOOL]
        question = WEATHER_Q[i % len(WEATHER_Q)].format(c=city)
        text = _generate(model, tokenizer, [{"role": "user", "content": question}], tools, False)
        copied += f'"city": "{city}"' in text
    print(f"unseen cities copied into get_weather calls: {copied}/{len(HELD_OUT)}")


if __name__ == "__main__":
    main()
