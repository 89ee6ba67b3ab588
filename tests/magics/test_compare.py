"""%chat compare: the last prompt once per value, concurrently with a bound."""

from __future__ import annotations

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nscale_jupyter._api as api
from nscale_jupyter._compare import parse_values
from nscale_jupyter._options import OptionError
from tests.core.streams import SlowServer
from tests.html import tags

from .conftest import Server


def test_parse_values() -> None:
    assert parse_values("temperature=0,0.7,1.5") == ("temperature", [0.0, 0.7, 1.5])
    assert parse_values("model=a,b") == ("model", ["a", "b"])
    with pytest.raises(OptionError, match="out of range"):
        parse_values("temperature=0,9")
    with pytest.raises(OptionError, match="at least two"):
        parse_values("top_p=0.5")


def test_compare_reruns_the_last_request_per_value(ip: InteractiveShell, server: Server) -> None:
    slow = SlowServer(lambda body: f"t={body.get('temperature')} <b>x</b>")
    session = api.default_session()
    session._transport = httpx.MockTransport(slow)
    session.settings.base_url = "https://compare.test/v1"
    with capture_output():
        ip.run_cell_magic("chat", "-m m -t 0.2", "Tell me a story.")
    with capture_output() as cap:
        ip.run_line_magic("chat", "compare temperature=0,0.5,1,1.5,2 --concurrency 2")
    sent = slow.bodies[1:]
    assert sorted(b["temperature"] for b in sent) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert all(b["messages"][-1]["content"] == "Tell me a story." for b in sent)
    assert slow.peak == 2  # bounded concurrency, and it was used
    html = cap.outputs[-1].data["text/html"]
    assert html.index("temperature = 0.0") < html.index("temperature = 2.0")
    assert "t=1.5 &lt;b&gt;x&lt;/b&gt;" in html and tags(html).tags.count("b") == 5
    comparisons = ip.user_ns["_"]
    assert [c.value for c in comparisons] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_compare_needs_a_previous_chat_and_good_values(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="run a %%chat first"):
        ip.run_line_magic("chat", "compare temperature=0,1")
    with pytest.raises(UsageError, match="out of range"):
        ip.run_line_magic("chat", "compare temperature=0,5")
