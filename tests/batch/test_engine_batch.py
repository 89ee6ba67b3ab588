"""100 prompts through batch() against the local vLLM engine; a small grid on it too."""

from __future__ import annotations

from typing import Any

import pytest

from nscale_jupyter import batch, grid
from nscale_jupyter._session import Session

pytestmark = pytest.mark.engine


def test_a_hundred_prompts_against_the_engine(engine: Any) -> None:
    session = Session()
    session.settings.base_url = engine.base_url
    try:
        items = [{"n": i} for i in range(100)]
        options: dict[str, Any] = {"model": engine.model, "max_tokens": 8, "temperature": 0}
        result = batch(
            items, "Count from {n}:", concurrency=16, progress=False, session=session, **options
        )
        assert len(result) == 100 and result.failed == []
        assert all(r.answer is not None and r.finish_reason in ("stop", "length") for r in result)
        assert all(r.completion_tokens >= 1 for r in result)
        usage = result.usage
        assert usage.completion_tokens == sum(r.completion_tokens for r in result) > 100

        runs = grid(["Hi", "Say yes"], options={"temperature": [0, 1.0]}, seeds=[1, 2],
                    score="regex:\\w", progress=False, session=session,
                    model=engine.model, max_tokens=4)  # fmt: skip
        assert len(runs) == 2 * 2 * 2 and all(r.error is None for r in runs)
        assert all(r.score is not None for r in runs)
    finally:
        session.close()
