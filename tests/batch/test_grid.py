"""grid(): one run per prompt x model x option values x seed, scored, pivoted, plotted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nscale_jupyter import GridResult, grid
from nscale_jupyter._grid import scorer
from nscale_jupyter._options import OptionError
from tests.servers.fault_server import FaultServer

from .helpers import Echo, chats, completion, session_for


def test_the_request_count_is_the_product_of_the_axes(tmp_path: Path) -> None:
    def rule(prompt: str, attempt: int) -> object:
        return completion("4" if "2+2" in prompt else "blue")

    with FaultServer(models=("m1", "m2")) as srv:
        srv.respond = Echo(rule)  # type: ignore[assignment]
        session = session_for(srv)
        prompts = {"2+2=?": "4", "Sky colour?": "blue", "3+3=?": "6"}
        result = grid(
            prompts,
            models=["m1", "m2"],
            options={"temperature": [0, 0.7], "top_p": [0.5, 0.9, 1]},
            seeds=[1, 2],
            score="exact",
            concurrency=5,
            progress=False,
            session=session,
            max_tokens=8,
        )
        sent = chats(srv)
        assert isinstance(result, GridResult)
        assert len(result) == len(sent) == 3 * 2 * 2 * 3 * 2
        combos = {
            (r.json["messages"][-1]["content"], r.json["model"], r.json["temperature"],
             r.json["top_p"], r.json["seed"]) for r in sent
        }  # fmt: skip
        assert len(combos) == len(sent)  # every combination exactly once
        assert all(r.json["max_tokens"] == 8 for r in sent)
        assert srv.max_concurrent <= 5
        by_prompt = {r.prompt: r.score for r in result}
        assert by_prompt == {"2+2=?": 1.0, "Sky colour?": 1.0, "3+3=?": 0.0}
        cells = result.cells()
        assert len(cells) == 2 * 2 * 3 * 2 and all(c["runs"] == 3 for c in cells)
        table = result.pivot()
        assert table.shape == (24, 3)
        assert table["3+3=?"].eq(0).all() and table["2+2=?"].eq(1).all()
        path = result.to_jsonl(tmp_path / "grid.jsonl")
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(lines) == 72 and {"prompt", "model", "temperature", "seed", "score",
                                     "latency", "tokens"} <= set(lines[0])  # fmt: skip
        ax = result.plot()
        assert len(ax.patches) == 24 and ax.figure._repr_png_()[:4] == b"\x89PNG"
        assert "| cell |" in result._repr_markdown_()
        session.close()


def test_scorers() -> None:
    exact, js, rx = scorer("exact"), scorer("json"), scorer(r"regex:\d+")
    assert exact is not None and exact(" 4 ", "4") == 1.0 and exact("4", None) is None
    assert js is not None and js('{"a": 1}', None) == 1.0 and js("x", None) == 0.0
    assert js('{"a": 1}', '{"a": 2}') == 0.0
    assert rx is not None and rx("it is 42", None) == 1.0 and rx("none", None) == 0.0
    one = scorer(len)
    two = scorer(lambda a, e: a == e)
    assert one is not None and one("abc", None) == 3.0
    assert two is not None and two("x", "x") == 1.0
    with pytest.raises(OptionError):
        scorer("fuzzy")


def test_a_bad_option_value_sends_nothing() -> None:
    with FaultServer() as srv:
        session = session_for(srv)
        with pytest.raises(OptionError, match="temperature"):
            grid(["a"], options={"temperature": [0, 5]}, progress=False, session=session)
        assert chats(srv) == []
        session.close()
