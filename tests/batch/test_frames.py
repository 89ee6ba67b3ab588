"""A DataFrame in and out: fields from columns, answers as a new column, the input kept."""

from __future__ import annotations

from typing import TypedDict

import pandas as pd

from nscale_jupyter import batch
from tests.servers.fault_server import FaultServer

from .helpers import Echo, completion, error, session_for


def test_a_dataframe_in_and_out() -> None:
    frame = pd.DataFrame({"text": ["x", "y", "z"], "lang": ["fr", "de", "it"]}, index=[10, 20, 30])
    before = frame.copy()
    with FaultServer() as srv:
        srv.respond = Echo(  # type: ignore[assignment]
            lambda p, a: error(400, "no") if "z" in p else None
        )
        session = session_for(srv)
        result = batch(frame, "{text} in {lang}", progress=False, session=session, model="fake")
        out = result.to_pandas(into="translation")
        assert list(out.columns) == ["text", "lang", "translation", "error"]
        assert list(out.index) == [10, 20, 30]
        assert out["translation"].tolist()[:2] == ["<x in fr>", "<y in de>"]
        assert out["error"].isna().tolist() == [True, True, False]
        pd.testing.assert_frame_equal(frame, before)  # the user's frame is not changed
        session.close()


class Sentiment(TypedDict):
    label: str
    score: float


def test_structured_columns_join_the_frame() -> None:
    frame = pd.DataFrame({"review": ["great", "awful"]})
    answers = {"great": '{"label": "pos", "score": 0.9}', "awful": '{"label": "neg"}'}
    with FaultServer() as srv:
        srv.respond = Echo(lambda p, a: completion(answers[p]))  # type: ignore[assignment]
        session = session_for(srv)
        result = batch(frame, "{review}", output=Sentiment, progress=False, session=session,
                       model="fake")  # fmt: skip
        out = result.to_pandas()
        assert list(out.columns) == ["review", "label", "score", "problem"]
        assert out["label"].tolist() == ["pos", "neg"]
        assert out["problem"].isna().tolist() == [True, False]
        plain = pd.DataFrame(result.table())
        assert len(plain) == 2
        session.close()
