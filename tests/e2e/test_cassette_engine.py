"""Record the quickstart from a local engine, stop the engine, replay it: identical outputs."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from scripts.check_notebooks import committed, comparable
from scripts.record_cassettes import NOTEBOOKS, SENTINEL_KEY, errors, run
from tests.conftest import missing, require

pytestmark = [pytest.mark.kernel, pytest.mark.engine]


def listening(base_url: str) -> bool:
    url = urlparse(base_url)
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((url.hostname or "127.0.0.1", url.port or 80)) == 0


def test_record_the_quickstart_stop_the_engine_replay_it(tmp_path: Path) -> None:
    from nscale_jupyter.local import EngineError, default_model_dir, engine_python, start

    require(engine_python().exists(), "vLLM engine venv missing; run `make engine`")
    require((default_model_dir() / "config.json").is_file(), "tiny model missing; `make model`")
    try:
        engine = start()  # its own engine: this test stops it
    except EngineError as exc:
        missing(f"the local engine did not start: {exc}")
    tape = tmp_path / "quickstart.jsonl"
    try:
        live = run("quickstart", engine.base_url, "record", cassette=tape)
    finally:
        engine.stop()
    assert errors(live) == []
    assert SENTINEL_KEY not in tape.read_text()
    assert not listening(engine.base_url)  # stopped: nothing answers there now
    replayed = run("quickstart", engine.base_url, "replay", cassette=tape)
    assert errors(replayed) == []
    source = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    assert comparable(committed(source, replayed), where_from=False) == comparable(
        committed(source, live), where_from=False
    )
