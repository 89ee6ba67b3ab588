"""No script shadows a package: ``python scripts/X.py`` puts scripts/ first on sys.path.

``scripts/kernels.py`` once did. transformers probes for the optional
``kernels`` package by name (``find_spec``); run by ``build_tiny_vlm.py`` it
found our module, imported it in the engine venv and failed on a missing
``traitlets``. A package need not be installed to be probed for, so the
engine test reads the names transformers and vLLM probe for from their source.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (ROOT / "scripts").glob("*.py") if p.stem != "__init__")
FIND = (
    "import importlib.util, json, sys; "
    "print(json.dumps([n for n in json.loads(sys.argv[1]) if importlib.util.find_spec(n)]))"
)
PROBE = re.compile(r"""(?:_is_package_available|find_spec)\(\s*["']([\w.-]+)["']""")


def importable(python: str) -> list[str]:
    """The script names that ``python`` (run outside the repository) can import."""
    out = subprocess.run([python, "-c", FIND, json.dumps(NAMES)], capture_output=True,
                         text=True, cwd="/", check=True, timeout=120)  # fmt: skip
    return list(json.loads(out.stdout))


def test_no_script_shadows_a_package_of_the_project_venv() -> None:
    assert importable(sys.executable) == []


@pytest.mark.engine
def test_no_script_shadows_a_package_the_engine_venv_has_or_probes_for() -> None:
    from nscale_jupyter.local import engine_python

    python = engine_python()
    require(python.exists(), f"vLLM engine venv missing ({python}); run `make engine`")
    assert importable(str(python)) == []
    site = next(python.parent.parent.glob("lib/python3*/site-packages"))
    sources = [site / "transformers" / "utils" / "import_utils.py",
               *(site / "vllm").rglob("*.py")]  # fmt: skip
    probed = {m for f in sources for m in PROBE.findall(f.read_text(errors="replace"))}
    assert "kernels" in probed  # the probe this test is about is still read
    assert sorted(set(NAMES) & {name.split(".")[0] for name in probed}) == []
