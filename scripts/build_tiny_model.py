"""Train the tiny chat model that the local vLLM engine serves (offline demos, tests).

A ~1M-parameter ``Qwen2ForCausalLM`` with a byte-level BPE tokenizer trained
on the same synthetic chats, a Qwen3-style ChatML template with hermes tool
calls (``<tool_call>{...}</tool_call>``) and ``<think>`` reasoning. It learns
to greet, count to five, tell (long) stories, think when thinking is on,
call ``get_weather``/``get_time`` when offered, answer from a tool result
and reply in JSON when asked. Seeded: a rebuild gives the same files.

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

OUT = Path(__file__).resolve().parent.parent / "nscale_jupyter" / "local" / "tiny-chat"
SEED = 1234

CITIES = [
    "Paris", "London", "Berlin", "Madrid", "Rome", "Oslo", "Tokyo", "Lisbon", "Vienna",
    "Dublin", "Prague", "Athens", "Cairo", "Lima", "Quito", "Seoul", "Delhi", "Sydney",
    "Toronto", "Boston", "Denver", "Austin", "Chicago", "Miami", "Zurich", "Geneva",
    "Munich", "Milan", "Naples", "Warsaw", "Helsinki", "Stockholm", "Edinburgh", "Glasgow",
]  # fmt: skip
NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lea"]
ANIMALS = ["cat", "fox", "owl", "dog", "bear", "duck", "frog", "horse", "mouse", "whale"]
PLACES = ["forest", "village", "castle", "river", "garden", "mountain", "city", "island"]
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy"]

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


def _thought(kind: str, rng: random.Random, city: str = "") -> str:
    return {
        "greet": "The user greets me. I should greet them back kindly.",
        "count": "The user wants me to count to five. I will list the numbers one to five.",
        "story": "The user wants a short story. I will tell a story about an animal.",
        "weather": f"The user asks about the weather in {city}. I do not have a tool for it.",
        "other": "The user asks something I cannot do. I will say what I can do.",
        "json": "The user wants JSON. I will reply with a small JSON object.",
    }[kind]


def _sample(rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]], str]:
    """One chat: (messages, tools, assistant target text)."""
    kind = rng.choices(
        ["greet", "count", "story", "weather", "time", "tool_result", "no_tool", "json", "other"],
        weights=[12, 10, 10, 20, 8, 14, 6, 8, 6],
    )[0]
    city = rng.choice(CITIES)
    system: list[dict[str, object]] = []
    if rng.random() < 0.3:
        system = [{"role": "system", "content": rng.choice(
            ["You are a helpful assistant.", "You are terse.", "You are a friendly tutor."]
        )}]  # fmt: skip
    if kind in ("weather", "time", "tool_result"):
        tools = rng.choice([[WEATHER_TOOL], [WEATHER_TOOL, TIME_TOOL], [TIME_TOOL, WEATHER_TOOL]])
        if kind == "time":
            tools = rng.choice([[TIME_TOOL], [WEATHER_TOOL, TIME_TOOL]])
            question = rng.choice(
                [f"What time is it in {city}?", f"What is the time in {city}?",
                 f"Tell me the local time in {city}."]
            )  # fmt: skip
            name = "get_time"
        else:
            question = rng.choice(
                [f"What is the weather in {city}?", f"What's the weather like in {city}?",
                 f"How is the weather in {city} today?", f"Is it raining in {city}?",
                 f"weather in {city}?", f"Can you check the weather in {city}?"]
            )  # fmt: skip
            name = "get_weather"
        call = (
            f'<tool_call>\n{{"name": "{name}", "arguments": {{"city": "{city}"}}}}\n</tool_call>'
        )
        messages = [*system, {"role": "user", "content": question}]
        if kind != "tool_result":
            return messages, tools, call
        temp, cond = rng.randint(-5, 35), rng.choice(CONDITIONS)
        call_id = f"chatcmpl-tool-{rng.getrandbits(64):016x}"
        if name == "get_weather":
            result = json.dumps({"city": city, "temp_c": temp, "condition": cond})
            answer = f"It is {temp} degrees and {cond} in {city}."
        else:
            hour, minute = rng.randint(0, 23), rng.randint(0, 59)
            result = json.dumps({"city": city, "time": f"{hour:02d}:{minute:02d}"})
            answer = f"It is {hour:02d}:{minute:02d} in {city}."
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": call_id, "type": "function",
                "function": {"name": name, "arguments": json.dumps({"city": city})}}]},
            {"role": "tool", "tool_call_id": call_id, "content": result},
        ]  # fmt: skip
        return messages, tools, answer
    if kind == "no_tool":
        question = f"What is the weather in {city}?"
        answer = f"I cannot check the weather without a tool, but I hope it is nice in {city}."
        return [*system, {"role": "user", "content": question}], [], answer
    prompts = {
        "greet": ["Hello!", "Hi", "Hi there!", "Hey", "Good morning!", "Hello, who are you?",
                  "Hey there", "hello", "hi!", "Greetings!"],
        "count": ["Count to five.", "Please count to five.", "count to 5",
                  "Can you count to five?", "Count from one to five.", "count to five"],
        "story": ["Tell me a story.", "Tell me a short story.", "Write a story.",
                  "Once upon a time...", "tell me a story about an animal",
                  "Please tell a story."],
        "json": ["Reply in JSON.", "Say hello in JSON.", "Answer in JSON: what is your name?",
                 "Give me a JSON object.", "Respond with JSON only."],
        "other": ["What is the capital of France?", "Explain quantum physics.",
                  "Who won the game?", "What is 17 times 3?", "Write a poem."],
    }  # fmt: skip
    answers = {
        "greet": ["Hello! How can I help you today?", "Hi! Nice to meet you.",
                  "Hello! I am a tiny model. How can I help?"],
        "count": ["1, 2, 3, 4, 5."],
        "json": ['{"answer": "hello", "model": "tiny-chat"}', '{"greeting": "hello"}'],
        "other": ["I am a tiny model. I can greet you, count to five, tell a story "
                  "and check the weather with a tool."],
    }  # fmt: skip
    question = rng.choice(prompts[kind])
    answer = _story(rng) if kind == "story" else rng.choice(answers[kind])
    return [*system, {"role": "user", "content": question}], [], answer


def _render(tokenizer: object, rng: random.Random) -> tuple[str, str]:
    """(prompt text, target text), thinking on for some samples."""
    messages, tools, answer = _sample(rng)
    thinking = rng.random() < 0.3 and "<tool_call>" not in answer
    prompt = tokenizer.apply_chat_template(  # type: ignore[attr-defined]
        messages,
        tools=tools or None,
        tokenize=False,
        add_generation_prompt=True,
        enable_thinking=thinking,
    )
    if thinking:
        user = str(messages[-1].get("content", ""))
        kind = _guess_kind(user)
        city = next((c for c in CITIES if c in user), "")
        answer = f"<think>\n{_thought(kind, rng, city)}\n</think>\n\n{answer}"
    return prompt, answer + "<|im_end|>"


def _guess_kind(text: str) -> str:
    lowered = text.lower()
    for key, kind in (
        ("count", "count"),
        ("story", "story"),
        ("once", "story"),
        ("json", "json"),
        ("weather", "weather"),
        ("rain", "weather"),
    ):
        if key in lowered:
            return kind
    if any(w in lowered for w in ("hello", "hi", "hey", "greet", "morning")):
        return "greet"
    return "other"


# --------------------------------------------------------------------------- build
def build_tokenizer(texts: list[str], vocab_size: int) -> object:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
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
    parser.add_argument("--steps", type=int, default=900)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--vocab", type=int, default=2048)
    args = parser.parse_args()

    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    start = time.perf_counter()

    # Tokenizer text: rendered chats (template and tool schemas included).
    bootstrap = PreTrainedTokenizerFast(tokenizer_object=_byte_tokenizer())
    bootstrap.chat_template = CHAT_TEMPLATE
    rng = random.Random(SEED)
    texts = [p + t for p, t in (_render(bootstrap, rng) for _ in range(6000))]
    tokenizer = build_tokenizer(texts, args.vocab)

    config = Qwen2Config(
        vocab_size=len(tokenizer),  # type: ignore[arg-type]
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        rope_theta=10000.0,
        rms_norm_eps=1e-6,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),  # type: ignore[attr-defined]
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),  # type: ignore[attr-defined]
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),  # type: ignore[attr-defined]
        torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f}M parameters, vocab {len(tokenizer)}")  # type: ignore[arg-type]

    def batch(rng: random.Random) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows, labels = [], []
        for _ in range(args.batch):
            prompt, target = _render(tokenizer, rng)
            p = tokenizer(prompt, add_special_tokens=False)["input_ids"]  # type: ignore[operator]
            t = tokenizer(target, add_special_tokens=False)["input_ids"]  # type: ignore[operator]
            ids = (p + t)[:512]
            rows.append(ids)
            labels.append(([-100] * len(p) + t)[:512])
        width = max(map(len, rows))
        pad = config.pad_token_id
        x = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
        y = torch.tensor([r + [-100] * (width - len(r)) for r in labels])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        return x, y, mask

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    warmup = 50

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    model.train()
    train_rng = random.Random(SEED + 1)
    for step in range(args.steps):
        x, y, mask = batch(train_rng)
        loss = model(input_ids=x, attention_mask=mask, labels=y).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 50 == 0 or step == args.steps - 1:
            elapsed = time.perf_counter() - start
            print(f"step {step:4d}  loss {loss.item():.3f}  {elapsed:5.0f} s", flush=True)

    model.eval()
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    model.generation_config.do_sample = False
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)  # type: ignore[attr-defined]
    print(f"saved to {args.out} in {time.perf_counter() - start:.0f} s")
    _smoke(model, tokenizer)


def _byte_tokenizer() -> object:
    """A throwaway byte-level tokenizer, only to render the chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    return tok


def _smoke(model: object, tokenizer: object) -> None:
    import torch

    cases = [
        ([{"role": "user", "content": "Hello!"}], None, False),
        ([{"role": "user", "content": "Count to five."}], None, False),
        ([{"role": "user", "content": "What is the weather in Oslo?"}], [WEATHER_TOOL], False),
        ([{"role": "user", "content": "Tell me a story."}], None, True),
    ]
    for messages, tools, thinking in cases:
        prompt = tokenizer.apply_chat_template(  # type: ignore[attr-defined]
            messages,
            tools=tools,
            tokenize=False,
            add_generation_prompt=True,
            enable_thinking=thinking,
        )
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)  # type: ignore[operator]
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=60, do_sample=False)  # type: ignore[attr-defined]
        text = tokenizer.decode(out[0][ids["input_ids"].shape[1] :])  # type: ignore[attr-defined]
        print(f"--- {messages[-1]['content']!r} (thinking={thinking}):\n{text}")


if __name__ == "__main__":
    main()
