"""jupyter-config/: kernels of the installed environment load the extension by themselves."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from tests.conftest import require

pytestmark = pytest.mark.kernel

CHECK = (
    "print(get_ipython().find_cell_magic('chat') is not None, "
    "'nscale_jupyter._autoload' in get_ipython().extension_manager.loaded)"
)


def kernel_says(code: str, env: dict[str, str]) -> str:
    """Run ``code`` in a fresh kernel started by jupyter_client; return what it printed."""
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    manager, client = start_new_kernel(kernel_name="python3", env={**os.environ, **env})
    try:
        reply = client.execute_interactive(code, timeout=60, output_hook=hook)
        assert reply["content"]["status"] == "ok"
        return "".join(out).strip()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_config_file_is_installed_in_the_environment() -> None:
    installed = Path(sys.prefix) / "etc" / "ipython" / "ipython_kernel_config.py"
    require(installed.is_file(), f"{installed} missing: install the package (pip install -e .)")
    source = Path(__file__).resolve().parents[2] / "jupyter-config" / "ipython"
    assert installed.read_text() == (source / "ipython_kernel_config.py").read_text()


def test_fresh_kernel_has_chat_without_load_ext() -> None:
    assert kernel_says(CHECK, {}) == "True True"


def test_opt_out() -> None:
    assert kernel_says(CHECK, {"NSCALE_JUPYTER_AUTOLOAD": "0"}) == "False False"


def test_load_ext_in_an_autoloaded_kernel_is_quiet() -> None:
    """A notebook's own ``%load_ext`` prints nothing and keeps the loaded magics' state."""
    code = (
        "m = get_ipython().find_cell_magic('chat').__self__\n"
        "%load_ext nscale_jupyter\n"
        "print(get_ipython().find_cell_magic('chat').__self__ is m)"
    )
    assert kernel_says(code, {}) == "True"  # no "already loaded" line before it
