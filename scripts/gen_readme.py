"""Regenerate the README's generated blocks from the code (option table, subcommands).

`make readme` rewrites them; tests/test_readme.py fails when they drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def blocks() -> dict[str, str]:
    from nscale_jupyter._options import options_markdown
    from nscale_jupyter._subcommands import SUBCOMMANDS

    rows = ["| command | what it does |", "|---|---|"]
    for _, command in sorted(SUBCOMMANDS.items()):
        what = (command.handler.__doc__ or "").strip()
        rows.append(f"| `{command.usage}` | {what} |")
    return {"options": options_markdown(), "subcommands": "\n".join(rows)}


def render(text: str) -> str:
    for name, body in blocks().items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        text = pattern.sub(f"{start}\n{body}\n{end}".replace("\\", "\\\\"), text)
    return text


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(render(readme.read_text()))
    print("README.md regenerated")
