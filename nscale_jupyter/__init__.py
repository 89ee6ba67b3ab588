"""nscale-jupyter: chat with the nscale inference API (or any OpenAI-compatible
server) from Jupyter and Python.

``%load_ext nscale_jupyter`` registers the ``%%chat`` / ``%chat`` magics.
Heavy parts (IPython magics, display, widgets, matplotlib) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import DEFAULT_BASE_URL
from ._events import (
    ChoiceFinished,
    ContentDelta,
    LogprobsDelta,
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    ToolCallDelta,
    UsageUpdate,
)
from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    BudgetError,
    CassetteError,
    ConfigError,
    ConnectError,
    ImageError,
    InStreamError,
    NotFoundError,
    NscaleError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamInterrupted,
    TimeoutError,
    TranscriptError,
    TransportError,
    UnprocessableError,
)
from ._options import OPTIONS, Option, OptionError
from ._prompt_logprobs import PromptLogprob, PromptLogprobs
from ._provenance import Provenance
from ._results import ChatResult, Choice, Model, Timing, TokenLogprob, TopLogprob, Usage
from ._retry import RetryNotice
from ._types import ChatRequest, ImagePart, Message, TextPart, ToolCall

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

    from ._api import abranch, achat, answer, branch, cassette, chat
    from ._branching import Branch, BranchError
    from ._chat_stream import ChatStream
    from ._client import AsyncClient
    from ._evaluate import abatch, batch, grid
    from ._export import export_thread, import_thread
    from ._grid import GridResult
    from ._images import ImageWarning, image_part
    from ._rows import BatchResult
    from ._session import Session
    from ._settings import ChatSettings
    from ._sync import Client
    from ._tools import ToolRegistry, ToolSchemaError, tool
    from .widgets import panel

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "OPTIONS",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "Branch",
    "BranchError",
    "BudgetError",
    "CassetteError",
    "ChatRequest",
    "ChatResult",
    "ChatSettings",
    "ChatStream",
    "Choice",
    "ChoiceFinished",
    "Client",
    "ConfigError",
    "ConnectError",
    "ContentDelta",
    "GridResult",
    "ImageError",
    "ImagePart",
    "ImageWarning",
    "InStreamError",
    "LogprobsDelta",
    "Message",
    "Model",
    "NotFoundError",
    "NscaleError",
    "Option",
    "OptionError",
    "PromptLogprob",
    "PromptLogprobs",
    "Provenance",
    "RateLimitError",
    "ReasoningDelta",
    "RetryNotice",
    "ServerError",
    "Session",
    "StreamDone",
    "StreamError",
    "StreamEvent",
    "StreamInterrupted",
    "TextPart",
    "TimeoutError",
    "Timing",
    "TokenLogprob",
    "ToolCall",
    "ToolCallDelta",
    "ToolRegistry",
    "ToolSchemaError",
    "TopLogprob",
    "TranscriptError",
    "TransportError",
    "UnprocessableError",
    "Usage",
    "UsageUpdate",
    "__version__",
    "abatch",
    "abranch",
    "achat",
    "answer",
    "batch",
    "branch",
    "cassette",
    "chat",
    "export_thread",
    "grid",
    "image_part",
    "import_thread",
    "load_ipython_extension",
    "panel",
    "tool",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext nscale_jupyter``: register the magics."""
    from ._magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext nscale_jupyter``: remove the magics, close the client."""
    from ._magics import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> Any:
    # Public names whose modules are heavier or come later, loaded on first use.
    lazy = _LAZY.get(name)
    if lazy is None:
        raise AttributeError(f"module 'nscale_jupyter' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(lazy, __name__), name)
    globals()[name] = value
    return value


#: name -> module, for names whose modules load on first use.
_LAZY: dict[str, str] = {
    "AsyncClient": "._client",  # httpx loads with the client, not with the package
    "ChatStream": "._chat_stream",
    "Client": "._sync",
    "chat": "._api",
    "tool": "._tools",
    "panel": ".widgets",
    "ToolRegistry": "._tools",
    "ToolSchemaError": "._tools",
    "achat": "._api",
    "answer": "._api",
    "cassette": "._api",
    "Session": "._session",
    "ChatSettings": "._settings",
    "Branch": "._branching",
    "BranchError": "._branching",
    "branch": "._api",
    "abranch": "._api",
    "batch": "._evaluate",
    "abatch": "._evaluate",
    "grid": "._evaluate",
    "export_thread": "._export",
    "import_thread": "._export",
    "BatchResult": "._rows",
    "GridResult": "._grid",
    "ImageWarning": "._images",
    "image_part": "._images",
}
