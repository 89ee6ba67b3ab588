"""%chat panel in a real kernel: a widget view appears; widget state has no key."""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.servers.fault_server import FaultServer

from .kernel import SENTINEL_KEY, errors, notebook, run_notebook

pytestmark = pytest.mark.kernel


def test_panel_in_a_kernel() -> None:
    with FaultServer() as srv:
        nb = notebook(
            "%load_ext nscale_jupyter",
            "%%chat -m fake\nHello?",
            "%chat panel",
            "p = get_ipython().find_line_magic('chat').__self__.last_panel\n"
            "p.controls['temperature'].enabled.value = True\n"
            "p.controls['temperature'].value.value = 0.9\n"
            "%chat settings",
        )
        run_notebook(
            nb,
            {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
            store_widget_state=True,
        )
        assert errors(nb) == []
        views = [
            o
            for o in nb.cells[2].outputs
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert views, nb.cells[2].outputs
        assert "temperature = 0.9" in nb.cells[3].outputs[0]["text"]
        state = nb.metadata.get("widgets", {})
        assert state, "widget state was saved"
        assert "Hello?" in json.dumps(state)  # the panel picked up the last prompt
        assert SENTINEL_KEY not in json.dumps(state)
        assert SENTINEL_KEY not in nbformat.writes(nb)
