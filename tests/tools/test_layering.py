"""The tools layer stays below the notebook face: no IPython, no display code."""

from __future__ import annotations

import subprocess
import sys


def test_tools_import_no_ui_and_tool_is_public() -> None:
    code = (
        "import sys, nscale_jupyter\n"
        "@nscale_jupyter.tool\n"
        "def f(x: int) -> int:\n"
        "    return x\n"
        "from nscale_jupyter._tools import default_registry\n"
        "assert default_registry().names() == ['f']\n"
        "print('\\n'.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    mods = set(out.stdout.split())
    assert "nscale_jupyter._tools" in mods
    for heavy in ("IPython", "ipywidgets", "matplotlib", "nscale_jupyter.display", "httpx"):
        assert heavy not in mods, heavy
