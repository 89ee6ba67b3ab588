"""The token lab against the real engine: branching, --prompt-logprobs in the magic (issue 19).

The tiny model is retrained now and then: these tests check structure (the
branch's token at the position is the chosen alternative, lengths line up),
never the model's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from nscale_jupyter import ChatResult, chat
from nscale_jupyter._branching import alternatives
from nscale_jupyter._session import Session
from tests.local.conftest import engine_shell

pytestmark = pytest.mark.engine


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    s = Session()
    s.settings.base_url = engine.base_url
    yield s
    s.close()


def story(session: Session, **options: Any) -> ChatResult:
    return chat(
        "Tell me a story.", session=session, temperature=0, max_tokens=12, logprobs=True,
        top_logprobs=5, **options,
    )  # fmt: skip


@pytest.mark.parametrize("stream", [True, False])
def test_a_branch_takes_the_chosen_alternative(session: Session, stream: bool) -> None:
    result = story(session, stream=stream)
    entries = list(result.logprobs or ())
    assert len(entries) >= 3
    position = 2
    wanted = alternatives(entries[position])[1].token
    branch = result.branch(position, 1, session=session)
    assert branch.point.token == wanted and branch.point.replaced == entries[position].token
    assert branch.tokens[:position] == tuple(e.token for e in entries[:position])
    assert branch.tokens[position] == wanted
    continuation = list(branch.result.logprobs or ())
    usage = branch.result.usage
    assert usage is not None and usage.completion_tokens == len(continuation) >= 1
    assert len(branch.tokens) == position + 1 + len(continuation)
    assert (
        branch.text == "".join(e.token for e in entries[:position]) + wanted + branch.result.text
    )
    # The prefix went as a final assistant message, continued rather than answered.
    sent = branch.result.request
    assert sent is not None and sent.messages[-1].role == "assistant"
    assert sent.messages[-1].content == branch.point.text
    assert sent.extra["continue_final_message"] is True
    assert "nscale-branch" in branch._repr_html_()


def test_the_default_branch_is_at_the_least_sure_token(session: Session) -> None:
    result = story(session)
    branch = result.branch(session=session)
    from nscale_jupyter.display._plots import default_position

    assert branch.point.position == default_position(list(result.logprobs or ()))


@pytest.fixture
def ip(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    yield from engine_shell(engine.base_url, monkeypatch)


def test_prompt_logprobs_through_the_magic(ip: InteractiveShell) -> None:
    with capture_output() as cap:
        ip.run_cell_magic(
            "chat", "-t 0 --max-tokens 8 --prompt-logprobs 3 --logprobs --top-logprobs 3 "
            "--plot filters --new", "The capital of France is Paris."
        )  # fmt: skip
    result = ip.user_ns["_"]
    assert "asked without streaming" in cap.stderr and "Traceback" not in cap.stderr
    entries = result.prompt_logprobs
    assert result.usage is not None and entries is not None
    assert len(entries) == result.usage.prompt_tokens
    assert all(e.rank is not None and e.rank >= 1 for e in entries[1:])
    assert "Paris" in "".join(e.token for e in entries)
    assert "cannot plot" not in cap.stderr
