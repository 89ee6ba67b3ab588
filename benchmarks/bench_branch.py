"""Branching on the local engine (issue 19): ``result.branch()`` returns in <= 2 s.

A story of 40 tokens at temperature 0, then branches at its least sure
position and at three others, each continuing up to 40 tokens. Beside them,
the same request sent again as a plain turn: a branch costs one request of
about the same length (its prompt holds the prefix), so the ratio stays near 1.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nscale_jupyter import chat
from nscale_jupyter._session import Session
from nscale_jupyter.local import start

ROUNDS = 3
GOAL = 2.0


def main() -> None:
    engine = start()
    session = Session()
    session.settings.base_url = engine.base_url
    try:
        options = {"temperature": 0, "max_tokens": 40, "logprobs": True, "top_logprobs": 5}
        story = chat("Tell me a story.", session=session, **options)  # also warms the engine
        n = len(story.logprobs or ())
        positions: list[int | None] = [None, 1, n // 2, n - 2]
        branch_s, plain_s, tokens = [], [], []
        for _ in range(ROUNDS):
            for position in positions:
                start_time = time.perf_counter()
                made = story.branch(position, session=session)
                branch_s.append(time.perf_counter() - start_time)
                tokens.append(len(made.result.logprobs or ()))
                start_time = time.perf_counter()
                chat("Tell me a story.", session=session, **options)
                plain_s.append(time.perf_counter() - start_time)
        print(f"branch on the local engine ({engine.model}), up to 40 tokens (goal <= {GOAL} s)")
        worst = max(branch_s)
        print(f"  branch()      median {statistics.median(branch_s):6.3f} s   "
              f"max {worst:6.3f} s  {'ok' if worst <= GOAL else 'over'}")  # fmt: skip
        print(f"  plain chat()  median {statistics.median(plain_s):6.3f} s   "
              f"max {max(plain_s):6.3f} s")  # fmt: skip
        ratio = statistics.median(branch_s) / statistics.median(plain_s)
        print(
            f"  branch / plain request: {ratio:.2f}x  "
            f"(branch continuations: {statistics.median(tokens):.0f} tokens median)"
        )
    finally:
        session.close()
        engine.stop()


if __name__ == "__main__":
    main()
