"""Measure how well tiny-chat copies, against the live vLLM engine (issue 20).

Starts the engine with the committed model (or uses ``--base-url``), asks at
temperature 0 about cities, temperatures and story heroes it was never trained
on (``scripts/heldout.py``) and prints three rates:

1. the ``get_weather`` call names the asked city;
2. after a tool result, the answer states the result's city and number;
3. stories keep real choices: positions where the top token has p < 0.8.

``make model-rates`` runs it; ``make bench`` too (benchmarks/bench_model.py).
``tests/local/test_engine_copying.py`` asserts the rates on 20 prompts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nscale_jupyter import AsyncClient, ChatRequest, ChatResult, Message, ToolCall  # noqa: E402
from scripts import heldout  # noqa: E402

# Phrasings the model was trained on; the cities, numbers and names in them are new.
WEATHER_Q = [
    "What is the weather in {c}?", "What's the weather like in {c}?", "weather in {c}?",
    "How is the weather in {c} today?", "Can you check the weather in {c}?",
    "Tell me the weather in {c}.", "Is it raining in {c}?", "How warm is it in {c}?",
]  # fmt: skip
STORY_Q = ["Tell me a story.", "Tell me a short story.", "Write a story.", "I want a story."]
HERO_Q = ["Tell me a story about {n}.", "Write a short story about {n}."]
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy", "stormy", "clear"]
CHOICE_P = 0.8  # a position is a real choice when its top token has less than this


def _weather(description: bool, strict: bool) -> dict[str, Any]:
    city: dict[str, Any] = {"type": "string"}
    if description:
        city["description"] = "The city name."
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": {"city": city},
        "required": ["city"],
    }
    function: dict[str, Any] = {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": parameters,
    }
    if strict:
        parameters["additionalProperties"] = False
        function["strict"] = True
    return {"type": "function", "function": function}


TIME_TOOL: dict[str, Any] = {"type": "function", "function": {
    "name": "get_time", "description": "Get the local time in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}  # fmt: skip
# As @nscale_jupyter.tool makes it, as the quickstart writes it by hand, strict, with get_time.
TOOLSETS = [
    [_weather(True, False)],
    [_weather(False, False)],
    [_weather(True, True)],
    [_weather(True, False), TIME_TOOL],
    [TIME_TOOL, _weather(False, False)],
]


@dataclass
class Rate:
    """Hits out of a number of prompts, with the first few misses to show."""

    name: str
    hits: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)
    parts: dict[str, Rate] = field(default_factory=dict)  # the same prompts, one part each

    def add(self, ok: bool, shown: str) -> None:
        self.total += 1
        self.hits += ok
        if not ok and len(self.misses) < 5:
            self.misses.append(shown)

    @property
    def fraction(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def line(self) -> str:
        lines = [f"{self.name}: {self.hits}/{self.total} = {self.fraction:.0%}"]
        return "\n".join(lines + [part.line() for part in self.parts.values()])


@dataclass
class Choices:
    """Per story: how many positions had a top token below CHOICE_P."""

    counts: list[int] = field(default_factory=list)
    heroes: Rate = field(default_factory=lambda: Rate("story names the asked hero"))
    example: str = ""

    def line(self) -> str:
        if not self.counts:
            return "stories: none measured"
        counts = sorted(self.counts)
        mean = sum(counts) / len(counts)
        return (
            f"stories with a real choice (top p < {CHOICE_P}): "
            f"{sum(c > 0 for c in counts)}/{len(counts)}; positions per story: "
            f"mean {mean:.1f}, min {counts[0]}, median {counts[len(counts) // 2]}"
        )


def call_prompts(n: int) -> list[tuple[str, ChatRequest]]:
    """(city, request) for n held-out cities (the list repeats with other phrasings)."""
    out = []
    for i in range(n):
        city = heldout.CITIES[i % len(heldout.CITIES)]
        question = WEATHER_Q[(i + i // len(heldout.CITIES)) % len(WEATHER_Q)].format(c=city)
        request = ChatRequest(
            model="",
            messages=(Message.user(question),),
            tools=tuple(TOOLSETS[i % len(TOOLSETS)]),
            temperature=0.0,
            max_tokens=60,
        )
        out.append((city, request))
    return out


def result_prompts(n: int) -> list[tuple[str, int, str, ChatRequest]]:
    """(city, temperature, condition, request): a finished get_weather call, held-out result."""
    out = []
    for i, (city, ask) in enumerate(call_prompts(n)):
        temp = heldout.TEMPS[(i * 7) % len(heldout.TEMPS)]
        call = ToolCall(f"chatcmpl-tool-{i:016x}", "get_weather", json.dumps({"city": city}))
        # As the tool loop sends a function's dict back (json.dumps).
        condition = CONDITIONS[i % len(CONDITIONS)]
        result = json.dumps({"city": city, "temp_c": temp, "condition": condition})
        messages = (
            *ask.messages,
            Message.assistant(None, [call]),
            Message.tool(call.id or "", result),
        )
        out.append((city, temp, condition, ask.replace(messages=messages)))
    return out


def story_prompts(n: int) -> list[tuple[str | None, ChatRequest]]:
    """(hero or None, request) with logprobs: plain story requests, then held-out heroes."""
    asks: list[tuple[str | None, str]] = [(None, q) for q in STORY_Q]
    asks += [(h, q.format(n=h)) for q in HERO_Q for h in heldout.HEROES]
    return [
        (hero, ChatRequest(model="", messages=(Message.user(text),), temperature=0.0,
                           max_tokens=120, logprobs=True, top_logprobs=1))
        for hero, text in asks[:n]
    ]  # fmt: skip


def states_number(text: str, number: int) -> bool:
    """The number as a whole number in the text ("8" is not in "18", "-3" needs its sign)."""
    return re.search(rf"(?<![\d-]){re.escape(str(number))}(?!\d)", text) is not None


Send = Callable[[ChatRequest], Awaitable[ChatResult]]


async def _gather(requests: Sequence[ChatRequest], send: Send) -> list[ChatResult]:
    limit = asyncio.Semaphore(8)  # vLLM batches them; more only queues

    async def one(request: ChatRequest) -> ChatResult:
        async with limit:
            return await send(request)

    return await asyncio.gather(*(one(r) for r in requests))


async def call_rate(send: Send, n: int) -> Rate:
    """Rate 1: the first tool call's ``city`` is the asked city, exactly."""
    rate = Rate("tool call names the asked city")
    asked = call_prompts(n)
    results = await _gather([r for _, r in asked], send)
    for (city, _), result in zip(asked, results, strict=True):
        named = [c.args.get("city") for c in result.tool_calls if c.args] or [result.text]
        rate.add(named[0] == city, f"{city}: {named[0]!r}")
    return rate


async def answer_rate(send: Send, n: int) -> Rate:
    """Rate 2: the answer after the tool result holds the result's city and number."""
    rate = Rate("answer states the result's city and number")
    rate.parts = {"number": Rate("  of which the number"), "city": Rate("  of which the city"),
                  "condition": Rate("  the condition too (not in the goal)")}  # fmt: skip
    given = result_prompts(n)
    results = await _gather([r for *_, r in given], send)
    for (city, temp, condition, _), result in zip(given, results, strict=True):
        text = result.text or ""
        rate.parts["number"].add(states_number(text, temp), text)
        rate.parts["city"].add(city in text, text)
        rate.parts["condition"].add(condition in text, f"{condition}: {text!r}")
        rate.add(city in text and states_number(text, temp), f"{city} {temp}: {text!r}")
    return rate


async def story_choices(send: Send, n: int) -> Choices:
    """Rate 3: per greedy story, the positions whose top token has p < CHOICE_P."""
    choices = Choices()
    told = story_prompts(n)
    results = await _gather([r for _, r in told], send)
    for (hero, _), result in zip(told, results, strict=True):
        choices.counts.append(sum(t.prob < CHOICE_P for t in result.logprobs or ()))
        choices.example = choices.example or result.text
        if hero is not None:
            choices.heroes.add(hero in result.text, f"{hero}: {result.text[:60]!r}")
    return choices


def run(base_url: str, model: str, measure: Callable[[Send, int], Awaitable[Any]], n: int) -> Any:
    """One measure against an engine, from sync code (the tests)."""

    async def go() -> Any:
        async with AsyncClient(base_url=base_url) as client:

            async def send(request: ChatRequest) -> ChatResult:
                return await client.chat(request.replace(model=model))

            return await measure(send, n)

    return asyncio.run(go())


def report(calls: Rate, answers: Rate, choices: Choices, misses: bool = True) -> None:
    for rate in (calls, answers):
        print(rate.line(), flush=True)
        for shown in rate.misses if misses else ():
            print(f"    miss: {shown}")
    print(choices.line())
    print(choices.heroes.line())
    print(f"    greedy story: {choices.example[:160]!r}...")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a running engine (default: start one)")
    parser.add_argument("--model", default="tiny-chat")
    parser.add_argument("-n", type=int, default=100, help="prompts per copying rate")
    parser.add_argument("--stories", type=int, default=24, help="story prompts (max 44)")
    parser.add_argument("--model-dir", type=Path, help="a model directory to serve instead")
    args = parser.parse_args(argv)
    engine = None
    if args.base_url is None:
        from nscale_jupyter import local

        start = time.perf_counter()
        engine = local.start(args.model_dir)
        print(f"engine up in {time.perf_counter() - start:.0f} s: {engine.base_url}", flush=True)
        base_url, model = engine.base_url, engine.model
    else:
        base_url, model = args.base_url, args.model
    try:
        print(f"held-out prompts at temperature 0: {args.n} per copying rate", flush=True)
        calls = run(base_url, model, call_rate, args.n)
        answers = run(base_url, model, answer_rate, args.n)
        report(calls, answers, run(base_url, model, story_choices, args.stories))
    finally:
        if engine is not None:
            engine.stop()


if __name__ == "__main__":
    main()
