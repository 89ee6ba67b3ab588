"""The response side of the chat completions API: results, choices, logprobs. Pure, frozen.

Every field the server sent is kept, whichever vLLM era it came from; a
streamed and a whole response give equal results (one accumulator).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._types import ChatRequest, Message, ToolCall

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ._branching import Branch
    from ._prompt_logprobs import PromptLogprob
    from ._provenance import Provenance

__all__ = [
    "NEG_INF_SENTINEL",
    "ChatResult",
    "Choice",
    "LazySequence",
    "Model",
    "Timing",
    "TokenLogprob",
    "TokenLogprobs",
    "TopLogprob",
    "Usage",
]

JSON = Any
T_co = TypeVar("T_co", covariant=True)

#: vLLM (like OpenAI) sends minus infinity as this number.
NEG_INF_SENTINEL = -9999.0


@dataclass(frozen=True, slots=True)
class TopLogprob:
    """One alternative token at a position."""

    token: str
    logprob: float
    bytes: tuple[int, ...] | None = None

    @property
    def prob(self) -> float:
        """The probability; 0 for vLLM's minus-infinity sentinel."""
        return 0.0 if self.logprob <= NEG_INF_SENTINEL else math.exp(self.logprob)


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """A generated token, its log-probability and the top alternatives."""

    token: str
    logprob: float
    bytes: tuple[int, ...] | None = None
    top_logprobs: tuple[TopLogprob, ...] = ()

    @property
    def prob(self) -> float:
        return 0.0 if self.logprob <= NEG_INF_SENTINEL else math.exp(self.logprob)

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> TokenLogprob:
        raw = data.get("bytes")
        return cls(
            data.get("token") or "",
            float(data.get("logprob", NEG_INF_SENTINEL)),
            tuple(raw) if raw is not None else None,
            tuple(
                TopLogprob(
                    t.get("token") or "",
                    float(t.get("logprob", NEG_INF_SENTINEL)),
                    tuple(t["bytes"]) if t.get("bytes") is not None else None,
                )
                for t in data.get("top_logprobs") or ()
            ),
        )


class LazySequence(Sequence[T_co]):
    """A read-only sequence whose items are built on first access.

    Subclasses give ``__len__`` (known without building) and ``_build()``.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: tuple[T_co, ...] | None = None

    def _build(self) -> Iterable[T_co]:
        raise NotImplementedError

    def _built(self) -> tuple[T_co, ...]:
        if self._items is None:
            self._items = tuple(self._build())
        return self._items

    @overload
    def __getitem__(self, index: int) -> T_co: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T_co, ...]: ...
    def __getitem__(self, index: int | slice) -> T_co | tuple[T_co, ...]:
        return self._built()[index]

    def __iter__(self) -> Iterator[T_co]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return self._built() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._built())!r})"


class TokenLogprobs(LazySequence[TokenLogprob]):
    """The logprobs of a run of tokens, built from the JSON entries on first access.

    Streams carry one entry per token with its top alternatives; turning
    them into objects only when someone looks keeps streaming fast.
    """

    __slots__ = ("_chunks", "_count", "_raw")

    def __init__(self, raw: Sequence[Mapping[str, JSON]] = ()) -> None:
        super().__init__()
        self._raw = raw
        self._chunks: tuple[Sequence[bytes], int] | None = None
        self._count = len(raw)

    @classmethod
    def from_chunks(cls, chunks: Sequence[bytes], choice: int, count: int) -> TokenLogprobs:
        """The logprobs of one choice, read from stream chunks (JSON bytes) when first used.

        A long stream then keeps its bytes, not a tree of small objects.
        """
        out = cls()
        out._chunks = (chunks, choice)
        out._count = count
        return out

    def _build(self) -> Iterable[TokenLogprob]:
        if self._chunks is None:
            return map(TokenLogprob.from_json, self._raw)
        chunks, choice = self._chunks
        entries: list[Mapping[str, JSON]] = []
        for raw in chunks:
            for c in json.loads(raw).get("choices") or ():
                if (c.get("index") or 0) == choice and c.get("logprobs"):
                    entries.extend(c["logprobs"].get("content") or ())
        return map(TokenLogprob.from_json, entries)

    def __len__(self) -> int:
        return self._count


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; details are kept as the server sent them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: Mapping[str, JSON] | None = None
    completion_tokens_details: Mapping[str, JSON] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Usage:
        return cls(
            data.get("prompt_tokens"),
            data.get("completion_tokens"),
            data.get("total_tokens"),
            data.get("prompt_tokens_details"),
            data.get("completion_tokens_details"),
        )

    @property
    def reasoning_tokens(self) -> int | None:
        details = self.completion_tokens_details or {}
        value = details.get("reasoning_tokens")
        return value if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class Timing:
    """Client-side timing of a request, in seconds."""

    #: From sending the request to the first content, reasoning or tool delta.
    time_to_first_token: float | None = None
    #: From sending the request to the end of the response.
    elapsed: float | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice of a reply, the same whether it was streamed or not."""

    index: int = 0
    content: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    logprobs: Sequence[TokenLogprob] | None = None
    finish_reason: str | None = None
    stop_reason: str | int | None = None
    role: str = "assistant"

    @property
    def text(self) -> str:
        return self.content or ""

    def to_message(self, *, truncated: bool = False) -> Message:
        """The assistant message to put back into the conversation history."""
        return Message("assistant", self.content, tool_calls=self.tool_calls, truncated=truncated)


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The result of one chat completion, streamed or not.

    ``truncated`` is set when the stream ended without ``[DONE]`` (or was
    interrupted); ``error`` holds the message of an in-stream error.
    ``prompt_logprobs`` (vLLM's ``prompt_logprobs=K`` extra, non-streamed
    only) has one :class:`PromptLogprob` per prompt token, built on first use.
    """

    choices: tuple[Choice, ...] = ()
    usage: Usage | None = None
    id: str | None = None
    created: int | None = None
    model: str | None = None
    system_fingerprint: str | None = None
    prompt_logprobs: Sequence[PromptLogprob] | None = None
    truncated: bool = False
    error: str | None = None
    timing: Timing = field(default_factory=Timing, compare=False)
    request: ChatRequest | None = field(default=None, compare=False, repr=False)
    #: The JSON as received: the response object, or the list of stream chunks.
    raw: JSON = field(default=None, compare=False, repr=False)
    #: How it was made: options sent, usage, request hash, cassette hit or miss.
    provenance: Provenance | None = field(default=None, compare=False, repr=False)

    # -- convenience: the first choice ---------------------------------
    @property
    def choice(self) -> Choice:
        return self.choices[0] if self.choices else Choice()

    @property
    def text(self) -> str:
        return self.choice.text

    @property
    def content(self) -> str | None:
        return self.choice.content

    @property
    def reasoning(self) -> str | None:
        return self.choice.reasoning

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self.choice.tool_calls

    @property
    def logprobs(self) -> Sequence[TokenLogprob] | None:
        return self.choice.logprobs

    @property
    def finish_reason(self) -> str | None:
        return self.choice.finish_reason

    @property
    def stop_reason(self) -> str | int | None:
        return self.choice.stop_reason

    @property
    def messages(self) -> tuple[Message, ...]:
        """The messages of the request that produced this result."""
        return self.request.messages if self.request is not None else ()

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        usage = self.usage
        tokens = f", tokens={usage.completion_tokens}" if usage else ""
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        flags = " truncated" if self.truncated else ""
        return (
            f"<ChatResult model={self.model!r} finish={self.finish_reason!r}"
            f"{tokens} text={text!r}{flags}>"
        )

    # -- rich display, drawn by the display layer on first use -----------
    def _repr_markdown_(self) -> str:
        from .display import result_markdown

        return result_markdown(self)

    def plot_logprobs(self, kind: str = "tokens", ax: Axes | None = None, **options: Any) -> Axes:
        """Plot this reply's logprobs and return the Axes.

        Kinds: ``tokens``, ``topk``, ``entropy``, ``temperature`` and
        ``filters`` (``position=``, ``temperature=``, ``top_p=``, ``top_k=``,
        ``min_p=``: the distribution before and after each of vLLM's sampling
        filters, in the order vLLM applies them). ``position`` defaults to
        where the model was least sure (highest entropy): the tiny model is
        sure of most tokens, and there nothing a sampling knob does shows.
        """
        from .display import plot_logprobs

        return plot_logprobs(self, kind=kind, ax=ax, **options)

    def prompt_heatmap(self, *, by: str = "prob", table: int = 10) -> Any:
        """The prompt's tokens coloured by how surprising each was to the model.

        Needs ``prompt_logprobs`` (ask with ``extra={"prompt_logprobs": K}``,
        not streamed). ``by="rank"`` colours by the token's rank instead of
        its probability; ``table`` rows list the most surprising tokens with
        their alternatives, so the view reads without hovering (0: none).
        """
        from .display import prompt_heatmap

        return prompt_heatmap(self, by=by, table=table)

    def branch(
        self, position: int | None = None, alternative: int | str = 1, *, session: Any = None
    ) -> Branch:
        """Continue this reply from its first ``position`` tokens with ``alternative``
        there instead of the sampled token; the original and the branch show side by side.

        ``alternative``: a rank among that position's alternatives (0 = the most
        likely) or a token's text. ``position`` defaults to where the model was
        least sure. Needs ``--logprobs --top-logprobs K`` and a server that can
        continue a message (vLLM's ``continue_final_message``).
        """
        from ._api import branch

        return branch(self, position, alternative, session=session)

    def logprobs_table(self, choice: int = 0) -> Any:
        """The logprobs as rows: a pandas DataFrame when pandas is installed."""
        from .display import logprobs_table

        return logprobs_table(self, choice=choice)


@dataclass(frozen=True, slots=True)
class Model:
    """One entry of ``GET /models``; only ``id`` is guaranteed."""

    id: str
    owned_by: str | None = None
    max_model_len: int | None = None
    parent: str | None = None
    root: str | None = None
    raw: JSON = field(default=None, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, JSON]) -> Model:
        return cls(
            str(data["id"]),
            data.get("owned_by"),
            data.get("max_model_len"),
            data.get("parent"),
            data.get("root"),
            raw=dict(data),
        )
