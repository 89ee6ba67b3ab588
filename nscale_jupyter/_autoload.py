"""The extension as the kernel config autoloads it (``jupyter-config/``).

It has a name of its own so that a notebook's ``%load_ext nscale_jupyter``
(kept for readers without autoload) loads quietly, instead of IPython
printing "already loaded": loading twice is a no-op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    from . import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    from . import unload_ipython_extension as unload

    unload(ipython)
