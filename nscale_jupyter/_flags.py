"""The ``%%chat`` / ``%chat`` flags: one per option of the table, and the turn flags.

IPython's ``@magic_arguments`` decorators, generated here and put on the
magics themselves, so ``%%chat?`` lists every option (as ``%%script?`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.magic_arguments import argument

from ._options import OPTIONS

__all__ = ["NO_VALUE", "TURN_FLAGS", "chat_arguments"]

#: Flags that are not request options: how the turn is run and shown.
TURN_FLAGS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--system",), {"help": "System prompt of the thread (\"\" for none)."}),
    (("--thread",), {"help": "Named thread to continue (default: the current one)."}),
    (("--new",), {"action": "store_true", "help": "Start the thread afresh."}),
    (("--out",), {"help": "Also store the result in this variable."}),
    (("--quiet", "-q"), {"action": "store_true", "help": "Show nothing; keep the result."}),
    (("--no-stream",), {"action": "store_true", "help": "Wait for the whole reply."}),
    (("--no-usage",), {"action": "store_true", "help": "Do not ask for usage."}),
    (("--image",), {"action": "append", "metavar": "SRC",
                    "help": "An image for a vision model: a file (png, jpeg, webp, gif), an "
                            "http(s) URL, or {var}: a matplotlib Figure, PIL image, bytes or "
                            "path in the notebook. Repeatable."}),
    (("--no-interpolate",), {"action": "store_true", "help": "Send {braces} as written."}),
    (("--extra",), {"action": "append", "metavar": "KEY=VALUE",
                    "help": "A vLLM extra field (JSON value), e.g. top_k=5. Repeatable."}),
    (("--plot",), {"choices": ["tokens", "topk", "entropy", "temperature", "filters"],
                   "help": "Plot the logprobs under the reply (needs --logprobs)."}),
    (("--branch",), {"action": "store_true",
                     "help": "Under a reply with logprobs: click an alternative to branch."}),
    (("--max-tool-rounds",), {"type": int, "metavar": "N",
                              "help": "Most model <-> tool round trips (at least 1)."}),
    (("--no-run-tools",), {"action": "store_true",
                           "help": "Show tool calls without running them."}),
    (("--over",), {"metavar": "VAR",
                   "help": "Batch: the cell is a template ({item}, {column}) filled from "
                           "each item of the list or DataFrame in VAR."}),
    (("--concurrency",), {"type": int, "metavar": "N",
                          "help": "Batch: requests at a time (default 8)."}),
    (("--into",), {"metavar": "COLUMN",
                   "help": "Batch: the result is a new DataFrame with the answers in COLUMN."}),
    (("--checkpoint",), {"metavar": "PATH",
                         "help": "Batch: keep finished rows in PATH; a rerun sends the rest."}),
    (("--no-wait",), {"action": "store_true",
                      "help": "Batch: give back the running batch at once (.progress, .result(), "
                              ".cancel()); the notebook stays free while it runs."}),
]  # fmt: skip


def chat_arguments(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a magic with one ``@argument`` per option of the table, and the turn flags."""
    for names, spec in reversed(TURN_FLAGS):
        fn = argument(*names, **spec)(fn)
    for opt in reversed(OPTIONS):
        names = (opt.flag, opt.short) if opt.short and opt.short != opt.flag else (opt.flag,)
        help_text = opt.help + (f" Range {opt.range_text}." if opt.range_text else "")
        kwargs: dict[str, Any]
        if opt.kind == "bool" and opt.name == "logprobs":
            kwargs = {"action": "store_const", "const": "true"}
        elif opt.kind == "strs" and opt.name == "stop":
            kwargs = {"action": "append", "metavar": "TEXT"}
        else:
            kwargs = {
                "metavar": opt.kind.upper() if opt.kind != "choice" else "|".join(opt.choices)
            }
        help_text = help_text.replace("%", "%%")  # argparse formats help with %
        fn = argument(*names, dest=opt.name, default=None, help=help_text, **kwargs)(fn)
    return fn


#: Flags that take no value (every other flag takes the word after it).
NO_VALUE = frozenset(
    {name for names, spec in TURN_FLAGS if spec.get("action") == "store_true" for name in names}
    | {o.flag for o in OPTIONS if o.name == "logprobs"}
    | {"--help", "-h"}
)
