"""%chat cassette, %chat usage, %config ChatSettings.cassette, and provenance in the output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._events import ContentDelta, StreamDone
from nscale_jupyter._provenance import provenance_of
from nscale_jupyter._results import ChatResult, Choice, Usage
from nscale_jupyter.display._stream import ChatRenderer

from .conftest import KEY, Server


def run(ip: InteractiveShell, line: str, cell: str | None = None) -> Any:
    with capture_output() as cap:
        if cell is None:
            ip.run_line_magic("chat", line)
        else:
            ip.run_cell_magic("chat", line, cell)
    return cap


def test_cassette_subcommand_records_then_replays(
    ip: InteractiveShell, server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "lesson.jsonl"
    out = run(ip, f"cassette {path} --mode record")
    assert "record" in out.stdout
    run(ip, "--temperature 0", "Hello")
    sent = len(server.recorder.requests)
    run(ip, f"cassette {path} --mode replay")
    run(ip, "--temperature 0 --new", "Hello")
    assert len(server.recorder.requests) == sent  # answered from the cassette
    result = ip.user_ns["_"]
    assert result.provenance.replayed and result.text == "Hello!"
    assert KEY not in path.read_text()
    usage = run(ip, "usage").stdout
    assert "live" in usage and "replayed" in usage
    assert "cassette off" in run(ip, "cassette off").stdout
    assert api.default_session().cassette is None


def test_a_replay_miss_is_one_line(ip: InteractiveShell, server: Server, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    run(ip, f"cassette {path} --mode replay")
    out = run(ip, "--temperature 0", "Hello")
    assert "no recording" in out.stderr and out.stderr.count("\n") == 1
    assert not [r for r in server.recorder.requests if r.url.path.endswith("completions")]


def test_config_without_a_mode_means_auto(ip: InteractiveShell, tmp_path: Path) -> None:
    ip.run_line_magic("config", f"ChatSettings.cassette = {str(tmp_path / 'c.jsonl')!r}")
    cassette = api.default_session().cassette
    assert cassette is not None and cassette.mode == "auto"
    ip.run_line_magic("config", "ChatSettings.cassette_mode = 'rewind'")  # refused
    assert api.default_session().settings.cassette_mode is None


def test_usage_shows_cost_with_prices(ip: InteractiveShell, server: Server) -> None:
    ip.run_line_magic("config", "ChatSettings.prices = {'only-model': [1.0, 2.0]}")
    run(ip, "", "Hello")
    out = run(ip, "usage").stdout
    assert "cost" in out.splitlines()[0] and "0.000028" in out
    assert "cost 0.000028" in run(ip, "", "Hello").stdout  # the footer too


def test_the_reply_output_carries_the_provenance_metadata() -> None:
    shown: list[tuple[dict[str, str], dict[str, Any] | None]] = []

    class Handle:
        def update(self, obj: dict[str, str], raw: bool = True, metadata: Any = None) -> None:
            shown.append((obj, metadata))

    def display(bundle: dict[str, str], metadata: Any = None) -> Handle:
        shown.append((bundle, metadata))
        return Handle()

    body = {"model": "m", "messages": [], "temperature": 0.0, "seed": 1}
    result = ChatResult((Choice(content="hi", finish_reason="stop"),), Usage(3, 1, 4), model="m")
    result = ChatResult(
        result.choices, result.usage, model="m", provenance=provenance_of(body, result, "hit")
    )
    renderer = ChatRenderer(display=display, metadata=True, interval=0)
    renderer.feed(ContentDelta(0, "hi"))
    renderer.feed(StreamDone(result))
    renderer.finish(result)
    meta = shown[-1][1]
    assert meta is not None
    prov = meta["nscale"]
    assert prov["options"] == {"model": "m", "temperature": 0.0, "seed": 1}
    assert prov["usage"]["total_tokens"] == 4 and prov["source"] == "replayed"
    assert prov["finish_reason"] == "stop" and len(prov["request_hash"]) == 16
    json.dumps(meta)  # it goes into the notebook as JSON


def test_cassette_words_that_do_not_fit_are_a_prompt(ip: InteractiveShell, server: Server) -> None:
    from nscale_jupyter._subcommands import SUBCOMMANDS

    fits = SUBCOMMANDS["cassette"].fits
    assert fits([]) and fits(["off"]) and fits(["a.jsonl"]) and fits(["a", "--mode", "replay"])
    assert not fits(["tapes", "are", "great"]) and not fits(["a", "--mode", "rewind"])
    assert "no cassette" in run(ip, "cassette").stdout
    run(ip, "cassette tapes are great")  # a question for the model
    assert server.last["messages"][-1]["content"] == "cassette tapes are great"


def test_a_budget_refusal_is_one_line_and_nothing_is_sent(
    ip: InteractiveShell, server: Server
) -> None:
    ip.run_line_magic("config", "ChatSettings.budget_tokens = 100")
    out = run(ip, "--max-tokens 500", "Hello")
    assert out.stderr.count("\n") == 1 and "token budget: 0 of 100 spent" in out.stderr
    assert not [r for r in server.recorder.requests if r.url.path.endswith("completions")]
    ip.run_line_magic("config", "ChatSettings.budget_tokens = None")
