"""Opaque ``sequence_id`` tokens: a position bound to one stream and one reset epoch, HMAC-signed.

Layout before base64url: stream id (8 bytes), epoch (4), sequence number (8), then a 12-byte keyed
BLAKE2b MAC of those 20 bytes under the installation's secret (one C call per token, which matters
when a batch carries 1,024 of them). A token cannot be forged, moved to
another stream, or replayed after a reset (the epoch changed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from sanitas.errors import BadRequest, Conflict

_BODY = struct.Struct(">8sIQ")
_MAC = 12


@dataclass(frozen=True)
class Position:
    """What a token says: the stream, its epoch and the last consumed sequence number."""

    stream_id: str
    epoch: int
    seq: int


def _key(secret: bytes) -> bytes:
    # BLAKE2b keys are at most 64 bytes; hashing the secret keeps any length usable.
    return hashlib.sha256(b"sanitas-stream:" + secret).digest()


def _mac(secret: bytes, body: bytes) -> bytes:
    return hashlib.blake2b(body, key=_key(secret), digest_size=_MAC).digest()


def encode(secret: bytes, pos: Position) -> str:
    """The token for ``pos``."""
    body = _BODY.pack(bytes.fromhex(pos.stream_id), pos.epoch, pos.seq)
    return base64.urlsafe_b64encode(body + _mac(secret, body)).decode().rstrip("=")


class TokenEncoder:
    """Encodes many positions of one stream fast (the MAC key schedule is computed once)."""

    def __init__(self, secret: bytes, stream_id: str, epoch: int) -> None:
        self._key = _key(secret)
        self._sid = bytes.fromhex(stream_id)
        self._epoch = epoch

    def __call__(self, seq: int) -> str:
        """The token for ``seq`` on this stream and epoch."""
        body = _BODY.pack(self._sid, self._epoch, seq)
        mac = hashlib.blake2b(body, key=self._key, digest_size=_MAC).digest()
        return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def decode(secret: bytes, token: str, *, stream_id: str, epoch: int) -> Position:
    """Verify ``token`` for this stream and epoch; BadRequest (forged, foreign) or Conflict (stale)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("sequence_id is not a valid token of this server", field="sequence_id") from exc
    if len(raw) != _BODY.size + _MAC:
        raise BadRequest("sequence_id is not a valid token of this server", field="sequence_id")
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(mac, _mac(secret, body)):
        raise BadRequest(
            "sequence_id is not a valid token of this server (bad signature)", field="sequence_id"
        )
    sid, tok_epoch, seq = _BODY.unpack(body)
    if sid.hex() != stream_id:
        raise BadRequest("sequence_id belongs to another stream", field="sequence_id")
    if tok_epoch != epoch:
        raise Conflict(
            "sequence_id was issued before the stream was last reset; fetch again to get a current one"
        )
    return Position(stream_id=stream_id, epoch=tok_epoch, seq=seq)
