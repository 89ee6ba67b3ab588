"""Shared fixtures of the engine tests: a real shell with the extension, on an engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

import nscale_jupyter._api as api
from nscale_jupyter._session import Session
from tests.magics.conftest import ipython_shell


def engine_shell(base_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A shell with ``%load_ext nscale_jupyter`` and a fresh default session on ``base_url``."""
    monkeypatch.setenv("NSCALE_BASE_URL", base_url)
    monkeypatch.delenv("NSCALE_API_KEY", raising=False)
    shell = ipython_shell()
    api.set_default_session(Session())
    shell.run_line_magic("load_ext", "nscale_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "nscale_jupyter")
