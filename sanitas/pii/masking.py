"""Turn detected spans into anonymized text: literal replacements or the masking strategies of
``--mask-config`` (README).

REDACT (the default) removes the span; REPLACE writes ``<TYPE>``; MASK writes one ``*`` per character;
HASH writes a keyed hash salted per run (the same value gives the same hash within a run, never across
runs); FAKE writes a realistic surrogate from Faker, seeded by the run salt and the value so it is
consistent within a run; ENCRYPT writes a token that ``deanonymize`` turns back with the project key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sanitas.pii.entities import Entity
from sanitas.pii.types import UnknownPiiTypeError, normalize_type

STRATEGIES = ("REDACT", "REPLACE", "MASK", "HASH", "FAKE", "ENCRYPT")
DEFAULT_STRATEGY = "REDACT"
# mask_config keys that apply to every type not named explicitly.
DEFAULT_KEYS = ("*", "default")

_TOKEN = re.compile(r"<ENC:([a-z_]+):([A-Za-z0-9_-]+)>")


class MaskingError(ValueError):
    """A mask_config that cannot be applied (ENCRYPT without a key, an undecryptable token)."""


def _strategy(value: str) -> str | None:
    upper = value.strip().upper()
    return upper if upper in STRATEGIES else None


def _config_for(mask_config: dict[str, str]) -> tuple[dict[str, str], str]:
    """Normalize keys (Presidio aliases allowed) and find the default for unnamed types."""
    per_type: dict[str, str] = {}
    default = DEFAULT_STRATEGY
    for k, v in mask_config.items():
        if k in DEFAULT_KEYS:
            default = v
            continue
        try:
            per_type[normalize_type(k)] = v
        except UnknownPiiTypeError:
            per_type[k] = v
    return per_type, default


def _aes_key(key: bytes) -> bytes:
    # Any project key length works: a SHA-256 of it is the AES-256 key.
    return hashlib.sha256(b"sanitas-encrypt\x00" + key).digest()


def encrypt_value(value: str, label: str, key: bytes) -> str:
    """Deterministic AES-GCM token (nonce from an HMAC of the value, so equal values match)."""
    # cryptography is imported here, not at module level: only ENCRYPT needs it (~10 ms per process).
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    k = _aes_key(key)
    nonce = hmac.new(k, label.encode() + b"\x00" + value.encode(), hashlib.sha256).digest()[:12]
    ct = AESGCM(k).encrypt(nonce, value.encode(), label.encode())
    return f"<ENC:{label}:{base64.urlsafe_b64encode(nonce + ct).decode().rstrip('=')}>"


def decrypt_token(label: str, payload: str, key: bytes) -> str:
    """Inverse of ``encrypt_value``; raises MaskingError for a wrong key or a damaged token."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    try:
        return AESGCM(_aes_key(key)).decrypt(raw[:12], raw[12:], label.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise MaskingError("cannot decrypt an ENCRYPT token: wrong project key or damaged text") from exc


def deanonymize(text: str, key: bytes) -> str:
    """Replace every ENCRYPT token in ``text`` by its original value."""
    return _TOKEN.sub(lambda m: decrypt_token(m.group(1), m.group(2), key), text)


def hash_value(value: str, label: str, run_salt: bytes) -> str:
    """Salted, keyed hash (16 hex chars): stable within a run, unlinkable across runs."""
    return hmac.new(run_salt, label.encode() + b"\x00" + value.encode(), hashlib.sha256).hexdigest()[:16]


_faker_lock = threading.Lock()
_faker: Any = None

_FAKERS: dict[str, Callable[[Any], str]] = {
    "person": lambda f: f.name(),
    "first_name": lambda f: f.first_name(),
    "last_name": lambda f: f.last_name(),
    "email": lambda f: f.email(),
    "phone_number": lambda f: f.phone_number(),
    "street_address": lambda f: f.street_address(),
    "location": lambda f: f.city(),
    "zip_code": lambda f: f.postcode(),
    "organization": lambda f: f.company(),
    "date_of_birth": lambda f: f.date_of_birth().isoformat(),
    "date": lambda f: f.date(),
    "age": lambda f: str(f.random_int(18, 90)),
    "credit_card": lambda f: f.credit_card_number(),
    "iban": lambda f: f.iban(),
    "bank_account": lambda f: f.bban(),
    "ssn": lambda f: f.ssn(),
    "passport_number": lambda f: f.passport_number(),
    "drivers_license": lambda f: f.bothify("?#######").upper(),
    "national_id": lambda f: f.bothify("??######?").upper(),
    "ip_address": lambda f: f.ipv4_public(),
    "mac_address": lambda f: f.mac_address(),
    "url": lambda f: f.url(),
    "username": lambda f: f.user_name(),
    "password": lambda f: f.password(),
    "api_key": lambda f: f.sha1(),
    "medical_record_number": lambda f: f.bothify("MRN-########"),
    "npi": lambda f: f.numerify("1#########"),
}


def fake_value(value: str, label: str, run_salt: bytes) -> str:
    """A realistic surrogate of ``label``, the same for the same value within a run."""
    global _faker
    seed = int.from_bytes(hmac.new(run_salt, (label + "\x00" + value).encode(), hashlib.sha256).digest()[:8])
    with _faker_lock:
        if _faker is None:
            from faker import Faker

            _faker = Faker("en_US")
        _faker.seed_instance(seed)
        return _FAKERS.get(label, lambda f: f.bothify("????####"))(_faker)


def _replacement(value: str, label: str, how: str, run_salt: bytes, key: bytes | None) -> str:
    strategy = _strategy(how)
    if strategy is None:
        return how  # a literal such as "<EMAIL>"
    if strategy == "REDACT":
        return ""
    if strategy == "REPLACE":
        return f"<{label.upper()}>"
    if strategy == "MASK":
        return "*" * len(value)
    if strategy == "HASH":
        return hash_value(value, label, run_salt)
    if strategy == "FAKE":
        return fake_value(value, label, run_salt)
    if key is None:
        raise MaskingError("ENCRYPT needs a project key")
    return encrypt_value(value, label, key)


def apply_masks(
    text: str,
    entities: Iterable[Entity],
    *,
    mask_config: dict[str, str],
    run_salt: bytes,
    key: bytes | None,
) -> str:
    """Return ``text`` with every entity span replaced as ``mask_config`` says (REDACT by default).

    Overlapping spans are resolved first (the earlier, then the longer span wins) so no character is
    replaced twice.
    """
    per_type, default = _config_for(mask_config)
    parts: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda x: (x.start, -(x.end - x.start))):
        if e.start < pos or e.end <= e.start:
            continue
        parts.append(text[pos : e.start])
        how = per_type.get(e.label, default)
        parts.append(_replacement(text[e.start : e.end], e.label, how, run_salt, key))
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)
