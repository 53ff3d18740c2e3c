"""Masking strategies and literal replacements."""

from __future__ import annotations

import re

import pytest

from sanitas.pii.entities import Entity
from sanitas.pii.masking import MaskingError, apply_masks, deanonymize

TEXT = "Mail bob@x.com or bob@x.com, call 555-123-4567."
ENTS = [Entity(5, 14, "email", 0.9), Entity(18, 27, "email", 0.9), Entity(34, 46, "phone_number", 0.8)]
SALT = b"run-salt-1"


def _mask(config: dict[str, str], *, salt: bytes = SALT, key: bytes | None = b"project-key") -> str:
    return apply_masks(TEXT, ENTS, mask_config=config, run_salt=salt, key=key)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "Mail  or , call ."),  # REDACT is the default
        ({"email": "REDACT", "phone_number": "REDACT"}, "Mail  or , call ."),
        ({"email": "REPLACE", "phone_number": "REPLACE"}, "Mail <EMAIL> or <EMAIL>, call <PHONE_NUMBER>."),
        ({"email": "mask", "phone_number": "MASK"}, "Mail ********* or *********, call ************."),
        ({"EMAIL_ADDRESS": "<E>", "*": "[x]"}, "Mail <E> or <E>, call [x]."),
    ],
)
def test_literal_and_simple_strategies(config, expected):
    assert _mask(config) == expected


def test_hash_is_consistent_within_a_run_and_differs_across_runs():
    out = _mask({"email": "HASH"})
    hashes = re.findall(r"\b[0-9a-f]{16}\b", out)
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    assert "bob@x.com" not in out
    other = re.findall(r"\b[0-9a-f]{16}\b", _mask({"email": "HASH"}, salt=b"run-salt-2"))
    assert other[0] != hashes[0]


def test_fake_is_realistic_and_consistent():
    out = _mask({"email": "FAKE", "phone_number": "FAKE"})
    emails = re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", out)
    assert len(emails) == 2 and emails[0] == emails[1] != "bob@x.com"
    assert "555-123-4567" not in out
    assert out == _mask({"email": "FAKE", "phone_number": "FAKE"})  # same salt, same surrogates


def test_encrypt_round_trips_with_the_key():
    out = _mask({"email": "ENCRYPT", "phone_number": "ENCRYPT"})
    assert "bob@x.com" not in out and "555-123-4567" not in out
    assert deanonymize(out, b"project-key") == TEXT


@pytest.mark.parametrize("key", [None])
def test_encrypt_needs_a_key(key):
    with pytest.raises(MaskingError, match="key"):
        _mask({"email": "ENCRYPT"}, key=key)


def test_wrong_key_cannot_decrypt():
    out = _mask({"email": "ENCRYPT"})
    with pytest.raises(MaskingError, match="wrong project key"):
        deanonymize(out, b"another-key")


def test_overlapping_entities_replaced_once():
    ents = [Entity(0, 10, "person", 0.9), Entity(5, 12, "location", 0.8)]
    assert apply_masks("abcdefghijklmno", ents, mask_config={"*": "REPLACE"}, run_salt=SALT, key=None) == (
        "<PERSON>klmno"
    )


def test_no_entities_leaves_text_unchanged():
    assert apply_masks(TEXT, [], mask_config={}, run_salt=SALT, key=None) == TEXT
