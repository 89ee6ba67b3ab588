"""`make record-fixtures`: record the real engine's raw SSE for the unit tests.

Starts the local vLLM engine (the tiny model), sends each case with plain
httpx, and writes the bytes exactly as they arrived to
tests/fixtures/streams/NAME.sse, with the request beside it (NAME.json).
Non-streamed cases (vLLM extras that refuse streaming, such as
``prompt_logprobs``) go to tests/fixtures/responses/NAME.json as
``{"request": ..., "response": ...}``. The fast unit tests replay these
files, so they test real engine output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "streams"
RESPONSES = ROOT / "tests" / "fixtures" / "responses"
sys.path.insert(0, str(ROOT))

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}  # fmt: skip


def cases(model: str) -> dict[str, dict[str, object]]:
    def ask(text: str, **fields: object) -> dict[str, object]:
        body: dict[str, object] = {
            "model": model,
            "messages": [{"role": "user", "content": text}],
            "stream": True,
            "max_tokens": 40,
            "temperature": 0,
            "stream_options": {"include_usage": True},
        }
        body.update(fields)
        return body

    return {
        "greeting": ask("Hello!"),
        "story_length": ask("Tell me a story.", max_tokens=20),
        "stop_string": ask("Count to five.", stop=["3"]),
        "n2": ask("Tell me a story.", n=2, temperature=1.0, seed=7, max_tokens=15),
        "logprobs_top5": ask("Tell me a story.", logprobs=True, top_logprobs=5, max_tokens=20),
        "thinking": ask("Hello!", chat_template_kwargs={"enable_thinking": True}, max_tokens=60),
        "tool_call": ask("What is the weather in Paris?", tools=[WEATHER], tool_choice="auto"),
        "tool_call_cut": ask("What is the weather in Paris?", tools=[WEATHER], max_tokens=8),
    }


def response_cases(model: str) -> dict[str, dict[str, object]]:
    """Non-streamed requests, kept whole (request and response) as JSON."""
    text = "The capital of France is Paris. The capital of Spain is a banana."
    return {
        "prompt_logprobs": {
            "model": model,
            "messages": [{"role": "user", "content": text}],
            "max_tokens": 12,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 5,
            "prompt_logprobs": 3,
        },
    }


def record_responses(base_url: str, model: str) -> None:
    RESPONSES.mkdir(parents=True, exist_ok=True)
    for name, body in response_cases(model).items():
        response = httpx.post(base_url + "/chat/completions", json=body, timeout=120)
        response.raise_for_status()
        record = {"request": body, "response": response.json()}
        (RESPONSES / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"recorded {name}: {len(response.content)} bytes")


def main() -> None:
    from nscale_jupyter.local import start

    OUT.mkdir(parents=True, exist_ok=True)
    with start() as engine:
        record_responses(engine.base_url, engine.model)
        for name, body in cases(engine.model).items():
            raw = b""
            with httpx.stream(
                "POST", engine.base_url + "/chat/completions", json=body, timeout=120
            ) as response:
                response.raise_for_status()
                for piece in response.iter_raw():
                    raw += piece
            (OUT / f"{name}.sse").write_bytes(raw)
            (OUT / f"{name}.json").write_text(json.dumps(body, indent=1) + "\n")
            print(f"recorded {name}: {len(raw)} bytes")


if __name__ == "__main__":
    main()
