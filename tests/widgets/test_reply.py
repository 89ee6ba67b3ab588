"""The panel's reply area: one display_data output per slot, each slot updated in place."""

from __future__ import annotations

from nscale_jupyter.widgets._reply import ReplyArea

HELLO = {"text/markdown": "Hello", "text/plain": "Hello"}


def test_each_handle_updates_its_own_slot_and_keeps_the_richest_mimetypes() -> None:
    area = ReplyArea()
    text = area.show({"text/markdown": "Hel", "text/plain": "Hel"})
    card = area.show({"text/html": "<b>card</b>", "application/json": "{}"})
    text.update(HELLO, metadata={"nscale": {"a": 1}})
    data = [o["data"] for o in area.output.outputs]
    assert data == [
        {"text/markdown": "Hello", "text/plain": "Hello"},
        {"text/html": "<b>card</b>"},
    ]
    assert [o["metadata"] for o in area.output.outputs] == [{"nscale": {"a": 1}}, {}]
    assert area.markup == "Hello<b>card</b>"
    card.update({})  # an empty slot shows nothing
    assert len(area.output.outputs) == 1


def test_say_replaces_the_reply_and_clear_starts_afresh() -> None:
    area = ReplyArea()
    area.show({"text/markdown": "old"}, metadata={"nscale": {}})
    area.append({"text/html": "<i>cut off</i>"})
    assert area.markup == "old<i>cut off</i>"
    area.say("<i>write a prompt first</i>")
    assert [o["data"] for o in area.output.outputs] == [
        {"text/html": "<i>write a prompt first</i>"}
    ]
    assert area.output.outputs[0]["metadata"] == {}
    area.clear()
    assert area.slots == [] and area.markup == ""
