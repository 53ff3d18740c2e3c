"""Cheap per-text surface features: how much a text looks like natural language, code or junk.

The features are measured the same way on every row; the detectors compare a row with the rest of
its own dataset, so none of these numbers is a threshold by itself.
"""

from __future__ import annotations

import re

import numpy as np

WORD_RE = re.compile(r"[A-Za-z\u00C0-\u024F']+|\d+|[^\sA-Za-z\d]")
TOKEN_RE = re.compile(r"[a-z0-9']+")
CODE_RE = re.compile(
    r"(</?[a-z][a-z0-9]*[^>]*>|\bdef\s+\w+\(|\breturn\b.*[*+]|[{};]\s*$|=>|::|\w+\(\w*\)|"
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\b(?:ERROR|WARN|DEBUG|INFO)\b)",
    re.MULTILINE,
)

# The most frequent English function words: a text with none of them is rarely English prose.
ENGLISH_FUNCTION_WORDS = frozenset(
    """a about after all am an and any are as at be because been before being but by can could did do does
    doing don't for from get got had has have how i i'm if in into is it it's its just me more my no not of
    on or our out so some than that the their them then there these they this to up us was we were what when
    where which who why will with would you your""".split()
)

# Words that mark a message addressed to someone (a request, a question, a first/second person).
CONVERSATIONAL_WORDS = frozenset(
    """i i'm i've i'd my me mine myself we our us you your you're can could would will should shall may might
    do does did is are am was how what when where why which who whom whose please help tell show give let
    need want set find get make thanks thank hi hello hey""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, apostrophes)."""
    return TOKEN_RE.findall(text.lower())


def surface_features(text: str) -> dict[str, float]:
    """Surface statistics of one text (all in [0, 1] except ``n_tokens``)."""
    stripped = "".join(text.split())
    n_chars = max(len(stripped), 1)
    letters = sum(ch.isalpha() for ch in stripped)
    ascii_letters = sum(ch.isascii() and ch.isalpha() for ch in stripped)
    digits = sum(ch.isdigit() for ch in stripped)
    toks = tokens(text)
    n_tok = max(len(toks), 1)
    func = sum(t in ENGLISH_FUNCTION_WORDS for t in toks)
    conv = sum(t in CONVERSATIONAL_WORDS for t in toks)
    # long runs of consonants or mixed letters/digits are typical of random strings and hashes
    weird = sum(
        1
        for t in toks
        if len(t) >= 12
        or re.search(r"[bcdfghjklmnpqrstvwxz]{5,}", t)
        or (re.search(r"\d", t) and re.search(r"[a-z]", t) and len(t) > 6)
    )
    return {
        "n_tokens": float(len(toks)),
        "non_letter": 1.0 - letters / n_chars,
        "digit": digits / n_chars,
        "non_ascii_letter": 1.0 - (ascii_letters / letters if letters else 1.0),
        "function_words": func / n_tok,
        "conversational": 1.0 if conv else 0.0,
        "weird_tokens": weird / n_tok,
        "code": 1.0 if CODE_RE.search(text) else 0.0,
    }


def feature_matrix(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Names and an (n, f) matrix of ``surface_features`` for every text."""
    names = list(surface_features("").keys())
    mat = np.zeros((len(texts), len(names)), dtype=np.float64)
    for i, t in enumerate(texts):
        f = surface_features(t)
        mat[i] = [f[k] for k in names]
    return names, mat
