"""Shared test helpers.

Under ``CI=true`` a test whose real component (engine, kernel, browser) is
missing must fail, never skip: use :func:`require` for that.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (under CI=true) when a real component is missing."""
    if not condition:
        missing(reason)


def missing(reason: str) -> NoReturn:
    """A real component is missing or did not start: skip locally, fail under CI=true."""
    if IN_CI:
        pytest.fail(f"missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    """One local vLLM engine (the tiny model) for the whole test session."""
    from nscale_jupyter.local import EngineError, default_model_dir, engine_python, start

    require(
        engine_python().exists(),
        f"vLLM engine venv missing ({engine_python()}); run `make engine`",
    )
    require((default_model_dir() / "config.json").is_file(), "tiny model missing; `make model`")
    try:
        eng = start()
    except EngineError as exc:
        missing(f"the local engine did not start: {exc}")
    yield eng
    eng.stop()
