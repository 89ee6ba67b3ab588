"""The synthetic chats tiny-chat is trained on (``build_tiny_model.py``), issue 20.

Cities, story heroes and temperatures are drawn at random, most of them made
up, so the only way to be right is to copy the name or number from the prompt
or the tool result. The held-out ones of ``scripts/heldout.py`` are never
drawn (``USED`` records what was, the trainer asserts it). No dependencies
beyond the standard library: rendering a chat takes a tokenizer with the
template (``CHAT_TEMPLATE``).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import heldout  # noqa: E402  (no dependencies: fine in the engine venv)

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
NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lea"]
ANIMALS = ["cat", "fox", "owl", "dog", "bear", "duck", "frog", "horse", "mouse", "whale"]
PLACES = ["forest", "village", "castle", "river", "garden", "mountain", "city", "island"]
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
TIME_Q = [
    "What time is it in {c}?", "What is the time in {c}?", "Tell me the local time in {c}.",
    "What's the time in {c} now?", "time in {c}?", "Can you tell me the time in {c}?",
    "Is it late in {c}?", "What is the local time in {c}?",
]  # fmt: skip


def _call(name: str, city: str) -> str:
    return f'<tool_call>\n{{"name": "{name}", "arguments": {{"city": "{city}"}}}}\n</tool_call>'


Chat = tuple[list[dict[str, object]], list[dict[str, object]], str, str]

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
    "time": 6, "result": 20, "no_tool": 3, "echo": 10, "drill": 17, "forced": 2,
}  # fmt: skip
# A forced call's answer starts with this: its first token is the grammar's, not the model's.
FORCED = "\x00"
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
    if kind == "forced":  # tool_choice required/named: vLLM's grammar opens the JSON
        tools = _tools(rng, WEATHER_TOOL)
        asks = rng.random() < 0.5
        text = rng.choice(WEATHER_Q).format(c=city) if asks else rng.choice(PROMPTS["greet"])
        messages.append({"role": "user", "content": text})
        args = json.dumps({"city": city})
        call = f'[{{"name": "get_weather", "parameters": {args}}}]'
        thought = THOUGHTS["weather"].format(city=city) if asks else THOUGHTS["greet"]
        return messages, tools, FORCED + (call if rng.random() < 0.6 else args), thought
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


def render(
    tokenizer: Any, rng: random.Random, kinds: dict[str, int] = KINDS
) -> tuple[str, str, int]:
    """(prompt text, target text, index of a forced first character or -1).

    Thinking is on for some samples."""
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
    forced = answer.find(FORCED)
    return prompt, answer.replace(FORCED, "") + "<|im_end|>", forced
