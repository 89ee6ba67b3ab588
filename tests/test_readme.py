"""The README's generated tables match the code, and it starts with the two commands."""

from __future__ import annotations

from pathlib import Path

from scripts.gen_readme import render

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tables_are_in_sync() -> None:
    text = README.read_text()
    assert render(text) == text, "run `make readme`"


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.read_text().split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
