"""``%chat local``: start the local vLLM engine and point the session at it."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError

from ._magics import ChatMagics, subcommand

_engines: list[Any] = []


@subcommand("local")
def _local(m: ChatMagics, rest: str) -> None:
    """%chat local [MODEL_DIR] [--stop]: start a local vLLM engine (about a minute) and use it."""
    from .local import EngineError, start

    words = shlex.split(rest)
    if "--stop" in words:
        while _engines:
            _engines.pop().stop()
        m.session.settings.base_url = None
        print("local engine stopped")
        return
    if _engines and _engines[-1].running:
        engine = _engines[-1]
    else:
        print("starting the local vLLM engine (about a minute)...", flush=True)
        try:
            engine = start(words[0] if words else None)
        except EngineError as exc:
            raise UsageError(str(exc)) from None
        _engines.append(engine)
    m.session.settings.base_url = engine.base_url
    m.session.settings.update_options({"model": engine.model})
    print(f"using the local engine at {engine.base_url} (model {engine.model})")
