"""What each server serves: ``GET /models`` fetched once per base URL.

A turn reads its model (a server's only one) and its context cap from here.
A server that cannot list its models, or is slow to, does not hold a turn:
the turn goes on without context lengths, and needs a model name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from ._exceptions import APIError, ConfigError, NscaleError
from ._results import Model

if TYPE_CHECKING:
    from ._client import AsyncClient

__all__ = ["ModelCatalog"]


class ModelCatalog:
    """Base URL -> its models (or why listing them failed)."""

    def __init__(self) -> None:
        self._models: dict[str, list[Model]] = {}
        self._errors: dict[str, NscaleError] = {}

    def listed(self, base_url: str) -> Sequence[Model]:
        return self._models.get(base_url) or ()

    def default_model(self, base_url: str) -> str:
        """The server's only model; otherwise ask the user (or say why there is no list)."""
        models = [m.id for m in self.listed(base_url)]
        if len(models) == 1:
            return models[0]
        error = self._errors.get(base_url)
        if error is not None and not models:
            raise error
        listed = ", ".join(models[:8]) + (", ..." if len(models) > 8 else "")
        raise ConfigError(
            "no model chosen: use --model NAME or %chat set model=NAME "
            f"(the server has: {listed or 'no models'})"
        )

    def context_length(self, base_url: str, model: str) -> int | None:
        """The model's context length, when the server says."""
        for m in self.listed(base_url):
            if m.id == model:
                return m.max_model_len
        return None

    async def fetch(
        self, client: Callable[[], Awaitable[AsyncClient]], base_url: str
    ) -> list[Model]:
        """Fetch the list again (``%chat models``, the panel)."""
        models = self._models[base_url] = await (await client()).models()
        self._errors.pop(base_url, None)
        return models

    async def load(
        self, client: Callable[[], Awaitable[AsyncClient]], base_url: str, timeout: float
    ) -> None:
        """Fetch the list once per base URL, waiting at most ``timeout`` seconds."""
        if base_url in self._models:
            return
        try:
            await asyncio.wait_for(self.fetch(client, base_url), timeout)
        except APIError as exc:  # the server answered: remember it
            self._models[base_url] = []
            self._errors[base_url] = exc
        except (NscaleError, asyncio.TimeoutError) as exc:  # try again next turn
            self._errors[base_url] = (
                exc
                if isinstance(exc, NscaleError)
                else ConfigError(f"{base_url} did not list its models within {timeout:g} s")
            )
