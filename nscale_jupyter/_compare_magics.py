"""``%chat compare FIELD=V1,V2,...``: the last prompt once per value, side by side."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError

from ._compare import parse_values, run_compare_in
from ._magics import ChatMagics, subcommand
from ._options import OptionError


@subcommand("compare")
def _compare(m: ChatMagics, rest: str) -> Any:
    """%chat compare FIELD=V1,V2,... [--concurrency N]: rerun the last prompt per value."""
    words = shlex.split(rest)
    concurrency = 4
    if "--concurrency" in words:
        i = words.index("--concurrency")
        try:
            concurrency = int(words[i + 1])
        except (IndexError, ValueError):
            raise UsageError("--concurrency N (a whole number)") from None
        del words[i : i + 2]
    if len(words) != 1:
        raise UsageError("%chat compare FIELD=V1,V2,... e.g. temperature=0,0.7,1.5")
    try:
        name, values = parse_values(words[0])
    except OptionError as exc:
        raise UsageError(str(exc)) from None
    if m.last_request is None:
        raise UsageError("nothing to compare yet: run a %%chat first")
    request = m.last_request

    comparisons = m.session.loop.run(
        run_compare_in(m.session, request, name, values, concurrency=concurrency)
    )
    from IPython.display import display

    from .display._compare import compare_bundle

    display(compare_bundle(comparisons), raw=True)
    if m.shell is not None:
        m.shell.displayhook.update_user_ns(comparisons)
