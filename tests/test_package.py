"""The public surface and the import direction."""

from __future__ import annotations

import subprocess
import sys

import nscale_jupyter


def test_all_names_exist() -> None:
    for name in nscale_jupyter.__all__:
        assert getattr(nscale_jupyter, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in nscale_jupyter.__all__ if not n.startswith("_")]
    assert len(set(names)) == len(names)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_client_layer_imports_no_ui() -> None:
    mods = _modules_after(
        "import nscale_jupyter._client, nscale_jupyter._sync, nscale_jupyter._accumulator"
    )
    for heavy in ("IPython", "ipywidgets", "matplotlib", "traitlets"):
        assert heavy not in mods, heavy


def test_package_import_is_light() -> None:
    mods = _modules_after("import nscale_jupyter")
    for heavy in ("ipywidgets", "matplotlib", "IPython"):
        assert heavy not in mods, heavy
