"""Run notebooks in a real kernel (nbclient), counting display updates."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import nbformat
from nbclient import NotebookClient

from scripts.encrypted_kernels import ENCRYPTED

SENTINEL_KEY = "sk-SENTINEL-kernel-5b1e0c"

#: A cell that shows the panel as ``p``, types a prompt, turns live mode on and
#: moves the temperature: a live run starts after the 300 ms debounce.
LIVE_PANEL = (
    "%chat panel\n"
    "p = get_ipython().find_line_magic('chat').__self__.last_panel\n"
    "p.prompt.value = 'panel question'\n"
    "p.live.value = True\n"
    "p.controls['temperature'].enabled.value = True\n"
    "p.controls['temperature'].value.value = 0.5"
)


class CountingClient(NotebookClient):
    """A NotebookClient that counts the messages each cell's outputs came from."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.message_counts: dict[str, int] = {}

    def output(self, outs: Any, msg: dict[str, Any], display_id: Any, cell_index: int) -> Any:
        kind = msg["msg_type"]
        self.message_counts[kind] = self.message_counts.get(kind, 0) + 1
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id: str, msg: dict[str, Any]) -> None:
        kind = msg["msg_type"]
        self.message_counts[kind] = self.message_counts.get(kind, 0) + 1
        super()._update_display_id(display_id, msg)


def notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    return nb


def run_notebook(
    nb: nbformat.NotebookNode, env: Mapping[str, str], timeout: int = 180, **options: Any
) -> CountingClient:
    """Execute in a fresh kernel with ``env`` added to its environment."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment it starts with
    try:
        client = CountingClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            config=ENCRYPTED,
            allow_errors=True,
            record_timing=False,
            **options,
        )
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return client


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def texts(cell: Any) -> str:
    """Everything a cell's outputs show, as one string."""
    return json.dumps(cell.get("outputs", []), ensure_ascii=False)
