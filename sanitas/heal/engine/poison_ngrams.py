"""N-gram helpers for the poisoned check: the word n-grams of a row, and the phrase they belong to."""

from __future__ import annotations

import re
from collections import Counter

MAX_N = 3
TOKEN = re.compile(r"[a-z0-9']+")


def grams(toks: list[str]) -> set[tuple[str, ...]]:
    """Every word 1- to ``MAX_N``-gram of ``toks``."""
    return {tuple(toks[i : i + n]) for n in range(1, MAX_N + 1) for i in range(len(toks) - n + 1)}


def contains(toks: list[str], gram: tuple[str, ...]) -> bool:
    """True when ``gram`` occurs in ``toks`` as a run of words."""
    n = len(gram)
    return any(tuple(toks[i : i + n]) == gram for i in range(len(toks) - n + 1))


def grow(gram: tuple[str, ...], toks_of: list[list[str]], share: float = 0.9) -> tuple[str, ...]:
    """Extend ``gram`` by the token most rows share on its left or right, while ``share`` of them do."""
    for _ in range(30):
        grown = False
        for side in (-1, 1):
            ctx: Counter[str] = Counter()
            for toks in toks_of:
                n = len(gram)
                for i in range(len(toks) - n + 1):
                    if tuple(toks[i : i + n]) == gram:
                        j = i - 1 if side < 0 else i + n
                        if 0 <= j < len(toks):
                            ctx[toks[j]] += 1
                        break
            if ctx:
                word, count = ctx.most_common(1)[0]
                if count >= share * len(toks_of):
                    gram = (word, *gram) if side < 0 else (*gram, word)
                    grown = True
        if not grown:
            break
    return gram


def surface(gram: tuple[str, ...], texts: list[str]) -> str:
    """The trigger as written in the first row containing it (original case and punctuation)."""
    pattern = r"(?<![a-z0-9'])" + r"[^a-z0-9']+".join(re.escape(t) for t in gram) + r"(?![a-z0-9'])"
    rx = re.compile(pattern, re.IGNORECASE)
    for text in texts:
        m = rx.search(text)
        if m:
            return m.group(0)
    return " ".join(gram)
