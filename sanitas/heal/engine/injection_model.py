"""A trained prompt-injection classifier applied to windows of a text that do not depend on punctuation.

Two linear models ship in ``sanitas/heal/models/injection.npz`` (trained by ``scripts/train_injection.py``
on public injection collections and benign rows, threshold calibrated on a dev split):

* ``ngram``: logistic regression on hashed character 2-5-grams and word 1-2-grams. It is applied to
  sliding windows of ``WINDOW`` whitespace tokens (stride ``STRIDE``), and a text's score is its highest
  window's: an attack joined to a benign sentence with no separator is still one window's whole content.
  Character n-grams run across token boundaries, so "balance?Ignore" still yields "ignore".
* ``embed``: logistic regression on the whole text's sentence embedding (the bundled MiniLM), which
  generalises by meaning to phrasings the n-grams never saw. It is only used when the job's embedder is
  the one it was trained on (checked on probe sentences shipped with the weights).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "injection.npz"
WINDOW = 16
STRIDE = 8
#: texts longer than this many tokens are scored on their first windows only (bounded cost)
MAX_TOKENS = 3000
CHAR_FEATURES = 2**18
WORD_FEATURES = 2**17
_WINDOW_BLOCK = 16_384  # windows featurized at once (their sparse features stay near 100 MB)
_SPACE = re.compile(r"\s+")


def windows(text: str, *, size: int = WINDOW, stride: int = STRIDE) -> list[str]:
    """Overlapping windows of ``size`` whitespace tokens; a short text is its own single window."""
    toks = _SPACE.split(text.strip())[:MAX_TOKENS]
    if len(toks) <= size:
        return [" ".join(toks)]
    starts = list(range(0, len(toks) - size + 1, stride))
    if starts[-1] + size < len(toks):
        starts.append(len(toks) - size)  # the tail is always covered by a full window
    return [" ".join(toks[s : s + size]) for s in starts]


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    char = HashingVectorizer(
        analyzer="char",
        ngram_range=(2, 5),
        n_features=CHAR_FEATURES,
        alternate_sign=False,
        norm=None,
        lowercase=True,
    )
    word = HashingVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        n_features=WORD_FEATURES,
        alternate_sign=False,
        norm=None,
        lowercase=True,
        token_pattern=r"(?u)\b\w+\b",
    )
    return char, word


def featurize(texts: list[str], idf: np.ndarray | None) -> Any:
    """Sparse features of ``texts``: sublinear tf x idf per block, each block L2-normalised, then stacked."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    char, word = _vectorizers()
    blocks = []
    offset = 0
    for vec, width in ((char, CHAR_FEATURES), (word, WORD_FEATURES)):
        x = vec.transform(texts).tocsr().astype(np.float32)
        x.data = 1.0 + np.log(x.data)
        if idf is not None:
            x = x @ sp.diags(idf[offset : offset + width].astype(np.float32))
        blocks.append(normalize(x))
        offset += width
    return sp.hstack(blocks).tocsr()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))), dtype=np.float64)


@dataclass
class WindowScores:
    """Per text: the highest window probability and that window's text."""

    score: np.ndarray
    window: list[str]


class InjectionModel:
    """The shipped weights, with the scoring functions of both models."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path, allow_pickle=False) as z:
            self.idf = z["idf"].astype(np.float32)
            self.ngram_coef = z["ngram_coef"].astype(np.float32)
            self.ngram_bias = float(z["ngram_bias"])
            self.ngram_threshold = float(z["ngram_threshold"])
            self.embed_coef = z["embed_coef"].astype(np.float32)
            self.embed_bias = float(z["embed_bias"])
            self.embed_threshold = float(z["embed_threshold"])
            self.probe_texts = [str(t) for t in z["probe_texts"]]
            self.probe_vectors = z["probe_vectors"].astype(np.float32)
        self.digest = hashlib.sha1(path.read_bytes()).hexdigest()[:16]

    def window_probs(self, wins: list[str]) -> np.ndarray:
        """Probability that each window is attack text (n-gram model)."""
        if not wins:
            return np.zeros(0)
        # a block of windows at a time: a window's features and score do not depend on the others, and
        # the character n-grams of every window of a million rows took 4.6 GB at once (measured; 0.5 now)
        out = np.empty(len(wins))
        for start in range(0, len(wins), _WINDOW_BLOCK):
            x = featurize(wins[start : start + _WINDOW_BLOCK], self.idf)
            out[start : start + x.shape[0]] = _sigmoid(
                np.asarray(x @ self.ngram_coef).ravel() + self.ngram_bias
            )
        return out

    def score_texts(self, texts: list[str]) -> WindowScores:
        """Max over each text's windows; identical windows are scored once."""
        per_text = [windows(t) for t in texts]
        uniq: dict[str, int] = {}
        for ws in per_text:
            for w in ws:
                uniq.setdefault(w, len(uniq))
        probs = self.window_probs(list(uniq))
        score = np.zeros(len(texts))
        best: list[str] = [""] * len(texts)
        for i, ws in enumerate(per_text):
            p = [probs[uniq[w]] for w in ws]
            j = int(np.argmax(p))
            score[i], best[i] = float(p[j]), ws[j]
        return WindowScores(score=score, window=best)

    def embed_probs(self, emb: np.ndarray) -> np.ndarray:
        """Probability that each whole text is attack text (embedding model)."""
        # no copy of float32 embeddings (``astype`` copies: 1.5 GB at a million rows)
        return _sigmoid(np.asarray(emb, dtype=np.float32) @ self.embed_coef + self.embed_bias)

    def embedder_matches(self, probe_vectors: np.ndarray) -> bool:
        """True when the job's embedder maps the probe sentences where the trained-on one did."""
        if probe_vectors.shape != self.probe_vectors.shape:
            return False
        cos = (probe_vectors * self.probe_vectors).sum(axis=1)
        return bool(cos.min() > 0.98)


@lru_cache(maxsize=1)
def load_model(path: str = str(MODEL_PATH)) -> InjectionModel:
    """The process-wide model (loaded once)."""
    return InjectionModel(Path(path))
