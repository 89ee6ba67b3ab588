"""tiny-chat's copying rates on held-out prompts against the live engine (issue 20).

The same as ``make model-rates`` (scripts/measure_model.py): starts the engine
with the committed model and prints the three rates on 100 prompts each.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import measure_model


def main() -> None:
    measure_model.main([])
