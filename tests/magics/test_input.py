"""The ``%chat`` line grammar and the ``?`` transform, without a shell."""

from __future__ import annotations

import pytest

from nscale_jupyter._input import question_marks, split_line


@pytest.mark.parametrize(
    ("line", "argv", "prompt"),
    [
        ("How are you?", [], "How are you?"),
        ("what's the weather like", [], "what's the weather like"),
        ("-t 0 --max-tokens 5 what's up", ["-t", "0", "--max-tokens", "5"], "what's up"),
        ('--stop "a b" --system \'Be brief\' hi there', ["--stop", "a b", "--system", "Be brief"],
         "hi there"),
        ("--logprobs -n 2 tell me", ["--logprobs", "-n", "2"], "tell me"),
        ("-q --new hi", ["-q", "--new"], "hi"),
        ("-- -t is a flag?", [], "-t is a flag?"),
        ("-t -1 x", ["-t", "-1"], "x"),
        ("--model=x hi 'q", ["--model=x"], "hi 'q"),
        ("-m m", ["-m", "m"], ""),
        ("", [], ""),
        ("  spaced   out  ", [], "spaced   out"),
    ],
)  # fmt: skip
def test_split_line(line: str, argv: list[str], prompt: str) -> None:
    assert split_line(line) == (argv, prompt)


def test_unbalanced_quotes_among_the_options() -> None:
    with pytest.raises(ValueError, match="No closing quotation"):
        split_line("--stop 'oops hi")


def test_question_marks() -> None:
    assert question_marks(["%chat How are you?\n"]) == [
        "get_ipython().run_line_magic('chat', 'How are you?')\n"
    ]
    assert question_marks(["x = 1\n", "  %chat what's up?\n"])[1] == (
        "  get_ipython().run_line_magic('chat', \"what's up?\")\n"
    )
    for untouched in (["%chat?\n"], ["%chat ?\n"], ["%chat hi\n"], ["%%chat\n", "%chat a?\n"]):
        assert question_marks(untouched) == untouched
