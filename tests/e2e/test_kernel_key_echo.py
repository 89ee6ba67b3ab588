"""A server that repeats the key, seen from a notebook run in a real kernel.

Every shape of tests/servers/key_echo.py runs as a ``%%chat`` cell; then the
saved notebook file (outputs, footers, errors), the thread's history, the
exceptions ``chat()`` raises (str, repr, traceback) and the log records at
DEBUG are scanned for any run of the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from nscale_jupyter._redact import MASK
from tests.servers.fault_server import FaultServer
from tests.servers.key_echo import ERRORS, REPLIES, leaks, respond

from .kernel import SENTINEL_KEY, errors, notebook, run_notebook
from .test_kernel_faults import CAPTURE_LOGS

pytestmark = pytest.mark.kernel

# In the kernel: the history, chat()'s exceptions and the log records, scanned;
# only counts are printed (the key never leaves the kernel).
SCAN = """\
import os, json, traceback, nscale_jupyter as nj
from nscale_jupyter._api import default_session
key = os.environ["NSCALE_API_KEY"]
runs = [key[i:i + 8] for i in range(len(key) - 7)]
texts = [json.dumps([(m.role, m.text, repr(m)) for m in default_session().thread().messages])]
raised = 0
for prompt in %r:
    try:
        texts.append(repr(nj.chat(prompt, model="fake")))
    except nj.NscaleError as exc:
        raised += 1
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(vars(exc))]
texts += records
print("texts", len(texts), "raised", raised, "records", len(records),
      "leaks", sum(any(r in t for r in runs) for t in texts),
      "masked", sum("%s" in t for t in texts))
"""


def test_the_key_never_reaches_the_notebook(tmp_path: Path) -> None:
    with FaultServer() as srv:
        srv.respond = respond
        cells = ["%load_ext nscale_jupyter", CAPTURE_LOGS]
        for prompt in ERRORS + REPLIES:
            flags = " --no-stream" if prompt == "full" else ""
            cells.append(f"%%chat -m fake{flags}\n{prompt}")
        cells += ["%chat history", SCAN % (ERRORS, MASK)]
        nb = notebook(*cells)
        run_notebook(
            nb,
            {"NSCALE_BASE_URL": srv.base_url, "NSCALE_API_KEY": SENTINEL_KEY},
            store_widget_state=True,
        )
        assert srv.requests[-1].headers["authorization"] == f"Bearer {SENTINEL_KEY}"
        assert errors(nb) == []  # each cell ended with a message, not a traceback
        path = tmp_path / "echo.ipynb"
        nbformat.write(nb, path)
        saved = path.read_text()
        assert SENTINEL_KEY not in saved and not leaks(SENTINEL_KEY, saved)
        assert saved.count(MASK) >= len(ERRORS + REPLIES) - 1  # scrubbed, still said
        shown = {
            p: json.dumps(nb.cells[2 + i].outputs, ensure_ascii=False)
            for i, p in enumerate(ERRORS + REPLIES)
        }
        assert "Incorrect API key provided: " + MASK in shown["401"]
        assert "Partial answer." in shown["instream"] and MASK in shown["instream"]
        assert "Your key is" in shown["stream"] and MASK in shown["stream"]
        assert "Here it is: " + MASK in shown["full"]
        scan = nb.cells[-1].outputs[0]["text"].split()
        assert scan[:2] == ["texts", scan[1]] and int(scan[1]) > 20, scan
        assert int(scan[3]) == len(ERRORS) and int(scan[5]) > 20, scan
        assert scan[6:8] == ["leaks", "0"] and int(scan[9]) >= len(ERRORS), scan
        assert srv.wait_idle()
