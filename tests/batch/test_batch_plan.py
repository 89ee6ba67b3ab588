"""A batch's plan: rows filled, options checked, each job keyed; nothing sent."""

from __future__ import annotations

import pytest

from nscale_jupyter._batch_plan import fill, plan_batch
from nscale_jupyter._options import OptionError
from nscale_jupyter._session import Session


def test_templates_fill_from_fields_and_leave_other_braces() -> None:
    assert (
        fill("Say {item} {{x}} {not a field} {}", {"item": "hi"}) == "Say hi {x} {not a field} {}"
    )
    with pytest.raises(OptionError, match=r"no field \{txt\}"):
        fill("{txt}", {"text": "a"})


def test_each_job_is_keyed_by_its_prompt_and_the_options_as_sent() -> None:
    session = Session(api_key=None)  # planning sends nothing: no server needed
    plan = plan_batch(session, ["a", "b", "a"], "Q: {item}", model="m", temperature=0)
    assert [j.prompt for j in plan.jobs] == ["Q: a", "Q: b", "Q: a"]
    keys = [j.key for j in plan.jobs]
    assert keys[0] == keys[2] != keys[1]
    assert plan.spec.stream is False and plan.spec.record is False
    session.settings.top_p = 0.5  # a setting changes what is sent, so the key
    again = plan_batch(session, ["a"], "Q: {item}", model="m", temperature=0)
    assert again.jobs[0].key != keys[0]


def test_bad_items_rows_and_options_are_refused_before_anything_is_sent() -> None:
    session = Session(api_key=None)
    with pytest.raises(OptionError, match="not str"):
        plan_batch(session, "abc", model="m")
    with pytest.raises(OptionError, match="row 1"):
        plan_batch(session, [{"a": 1}, {"b": 2}], "{a}", model="m")
    with pytest.raises(OptionError, match="row 0"):
        plan_batch(session, [{"a": 1}], model="m")  # a dict row needs a template
    with pytest.raises(OptionError, match="temperature"):
        plan_batch(session, ["a"], temperature=9)
    with pytest.raises(OptionError, match="concurrency"):
        plan_batch(session, ["a"], concurrency=0)
