"""Issue 20's held-out prompts are new to the copying trainer (no engine needed).

The copying rates themselves are measured by ``make model-rates``; the committed
tiny-chat does not copy yet (0/100), so no test asserts them until it does.
"""

from __future__ import annotations

from scripts import heldout


def test_held_out_prompts_are_new_to_the_copying_trainer() -> None:
    from scripts.train_copying_model import CITIES, NAMES

    assert set(heldout.CITIES).isdisjoint(CITIES)
    assert set(heldout.HEROES).isdisjoint(NAMES)
    assert set(heldout.TEMPS).isdisjoint(heldout.training_temps())
