"""Sequence tokens: opaque, signed, bound to one stream and one reset epoch."""

from __future__ import annotations

import pytest

from sanitas.errors import BadRequest, Conflict
from sanitas.streams.tokens import Position, TokenEncoder, decode, encode

SECRET = b"secret"
SID = "0123456789abcdef"


def test_round_trip_and_fast_encoder_agree() -> None:
    tok = encode(SECRET, Position(SID, 3, 12345))
    assert TokenEncoder(SECRET, SID, 3)(12345) == tok
    assert decode(SECRET, tok, stream_id=SID, epoch=3) == Position(SID, 3, 12345)
    assert "=" not in tok and "/" not in tok and "+" not in tok


@pytest.mark.parametrize(
    ("token", "stream_id", "epoch", "error"),
    [
        (encode(b"other secret", Position(SID, 0, 5)), SID, 0, BadRequest),
        (encode(SECRET, Position("fedcba9876543210", 0, 5)), SID, 0, BadRequest),
        (encode(SECRET, Position(SID, 0, 5)), SID, 1, Conflict),
        (encode(SECRET, Position(SID, 0, 5))[:-2], SID, 0, BadRequest),
        (encode(SECRET, Position(SID, 0, 5))[:-1] + "A", SID, 0, BadRequest),
        ("qs8QcHIBAADJ1p3W2FtmBB3QiOJsCJlR", SID, 0, BadRequest),
        ("not base64 at all!", SID, 0, BadRequest),
    ],
)
def test_bad_tokens_are_refused(token: str, stream_id: str, epoch: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode(SECRET, token, stream_id=stream_id, epoch=epoch)
