"""ModelCatalog: GET /models once per base URL; the default model; the context cap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nscale_jupyter._catalog import ModelCatalog
from nscale_jupyter._exceptions import APIError, ConfigError
from nscale_jupyter._results import Model

A, B = "http://a/v1", "http://b/v1"


class Lister:
    """Stands in for an AsyncClient: counts calls, answers, fails or hangs."""

    def __init__(self, answer: Any) -> None:
        self.answer, self.calls = answer, 0

    async def __call__(self) -> Lister:  # the session's ``aclient``
        return self

    async def models(self) -> list[Model]:
        self.calls += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        if self.answer == "hang":
            await asyncio.sleep(60)
        return list(self.answer)


def test_one_model_is_the_default_and_its_context_length_is_known() -> None:
    catalog, lister = ModelCatalog(), Lister([Model("tiny", max_model_len=512)])
    for _ in range(3):
        asyncio.run(catalog.load(lister, A, timeout=1))  # type: ignore[arg-type]
    assert lister.calls == 1  # once per base URL
    assert catalog.default_model(A) == "tiny"
    assert catalog.context_length(A, "tiny") == 512 and catalog.context_length(A, "x") is None
    assert catalog.listed(B) == ()


def test_many_or_none_asks_for_a_model_naming_what_there_is() -> None:
    catalog = ModelCatalog()
    asyncio.run(catalog.load(Lister([Model("m1"), Model("m2")]), A, 1))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"--model NAME .*the server has: m1, m2"):
        catalog.default_model(A)
    with pytest.raises(ConfigError, match="no models"):
        catalog.default_model(B)


def test_a_refusal_is_remembered_and_a_slow_server_is_tried_again() -> None:
    catalog = ModelCatalog()
    refused = Lister(APIError("no listing", status_code=404))
    asyncio.run(catalog.load(refused, A, 1))  # type: ignore[arg-type]
    asyncio.run(catalog.load(refused, A, 1))  # type: ignore[arg-type]
    assert refused.calls == 1
    with pytest.raises(APIError, match="no listing"):
        catalog.default_model(A)
    slow = Lister("hang")
    asyncio.run(catalog.load(slow, B, 0.05))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"did not list its models within 0\.05 s"):
        catalog.default_model(B)
    slow.answer = [Model("late")]
    asyncio.run(catalog.load(slow, B, 1))  # type: ignore[arg-type]
    assert slow.calls == 2 and catalog.default_model(B) == "late"
