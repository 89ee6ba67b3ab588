"""A magic's parsed flags become the turn's options, extras, tools and images."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from IPython.core.error import UsageError

from nscale_jupyter._magic_spec import cell_spec, extra_fields, inline_options
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._options import OptionError
from nscale_jupyter._session import Session
from nscale_jupyter._types import ImagePart, TextPart

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def args(line: str) -> Any:
    return ChatMagics.chat_cell.parser.parse_args(shlex.split(line))  # type: ignore[attr-defined]


def test_options_are_parsed_by_the_table_and_json_may_name_a_variable() -> None:
    ns = {"bias": {"42": -100}}
    got = inline_options(args("-t 0 --stop A --stop B --logit-bias bias"), ns)
    assert got == {"temperature": 0.0, "stop": ("A", "B"), "logit_bias": {"42": -100.0}}
    with pytest.raises(OptionError, match="--temperature"):
        inline_options(args("-t 3"), {})


def test_extras_must_be_known_unless_forced() -> None:
    assert extra_fields(args("--extra ignore_eos=true --extra '!mine=x'")) == {
        "ignore_eos": True,
        "mine": "x",
    }
    with pytest.raises(OptionError, match="unknown vLLM field 'mine'"):
        extra_fields(args("--extra mine=1"))
    with pytest.raises(OptionError, match="KEY=VALUE"):
        extra_fields(args("--extra mine"))


def test_the_spec_carries_the_thread_flags_and_an_image_by_name() -> None:
    session = Session(api_key=None)
    said: list[str] = []
    spec = cell_spec(
        args("--no-stream --thread t --image pic"), "look", session, {"pic": PNG}, say=said.append
    )
    assert spec.thread == "t" and spec.stream is False and spec.include_usage is None
    text, image = spec.prompt[0].content  # type: ignore[misc]
    assert text == TextPart("look") and isinstance(image, ImagePart) and said == []
    with pytest.raises(UsageError, match="--max-tool-rounds"):
        cell_spec(args("--max-tool-rounds 0"), "x", session, {}, say=said.append)
    with pytest.raises(UsageError, match=r"--image nope\.png"):
        cell_spec(args("--image nope.png"), "x", session, {}, say=said.append)
