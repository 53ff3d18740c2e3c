"""Bag-of-words embeddings for detector tests: one fixed random vector per word, averaged and normalised.

Rows sharing words are close, rows of a vocabulary of their own form their own cluster: enough to test
the heal checks' statistics without loading the embedding model.
"""

from __future__ import annotations

import hashlib

import numpy as np

DIM = 96


def word_vector(word: str) -> np.ndarray:
    """The word's fixed random vector (seeded by its hash, so every run sees the same)."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little"))
    return rng.normal(size=DIM)


def bow_embed(texts: list[str]) -> np.ndarray:
    """Mean of per-word vectors (punctuation stripped, lower case), normalised."""
    out = np.zeros((len(texts), DIM))
    for i, t in enumerate(texts):
        words = [w.strip(".,?!").lower() for w in t.split()] or ["<empty>"]
        v = np.mean([word_vector(w) for w in words], axis=0)
        out[i] = v / max(np.linalg.norm(v), 1e-12)
    return out
