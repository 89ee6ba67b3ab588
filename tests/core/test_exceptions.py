"""Error messages say what happened and what to do, once."""

from __future__ import annotations

import pytest

from nscale_jupyter import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from nscale_jupyter._exceptions import api_error


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (400, b'{"error": {"message": "too long", "type": "BadRequestError"}}', BadRequestError,
         "400 BadRequestError: too long"),
        (401, b'{"error": "Unauthorized"}', AuthenticationError,
         "401 error: Unauthorized - set NSCALE_API_KEY to a valid nscale key"),
        (404, b'{"error": {"message": "The model `x` does not exist."}}', NotFoundError,
         "does not exist. - check the model name"),
        (429, b'{"error": {"message": "slow down"}}', RateLimitError,
         "429 error: slow down - too many requests: wait a moment and try again."),
        (429, b'{"error": {"message": "Insufficient credit"}}', RateLimitError,
         "Insufficient credit - add credit to the account"),
        (502, b"<html><title>502 Bad Gateway</title></html>", ServerError,
         "502 Bad Gateway - the server failed"),
        (500, b'{"error": {"message": "engine exploded"}}', ServerError,
         "500 error: engine exploded - the server failed"),
    ],
)  # fmt: skip
def test_message_and_hint(status: int, body: bytes, kind: type, text: str) -> None:
    error = api_error(status, body)
    assert isinstance(error, kind)
    assert text in str(error)
    assert "\n" not in str(error)
    assert str(error).count(str(status)) == 1  # the status is said once
