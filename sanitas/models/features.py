"""Feature views of a text for the classifier: the sentence embedding and TF-IDF word/char n-grams.

A view is a plugin (a class with a ``name``): ``fit`` learns its state from training texts, ``transform``
turns texts into a matrix, and ``state``/``from_state`` round-trip that state as JSON plus numpy arrays,
so a saved model never unpickles code.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, TypeAlias

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

# Dense rows, or scipy sparse CSR rows (typed loosely: scipy ships no precise stubs).
Matrix: TypeAlias = Any


class FeatureView(ABC):
    """One way of reading a text; a linear head is trained on each view and their scores are fused."""

    name: ClassVar[str]
    #: Inverse L2 strength of the view's logistic regression (scikit-learn's ``C``).
    default_c: ClassVar[float]

    @abstractmethod
    def fit(self, texts: Sequence[str], embeddings: np.ndarray) -> None:
        """Learn whatever the view needs from the training texts."""

    @abstractmethod
    def transform(self, texts: Sequence[str], embeddings: np.ndarray) -> Matrix:
        """Rows of features, one per text."""

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able settings and named arrays that restore the fitted view."""
        return {}, {}

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> FeatureView:
        """Rebuild a fitted view from :meth:`state`."""
        return cls()


class EmbeddingView(FeatureView):
    """The L2-normalised sentence embedding itself (stateless)."""

    name = "minilm"
    default_c = 10.0

    def fit(self, texts: Sequence[str], embeddings: np.ndarray) -> None:
        """Nothing to learn."""

    def transform(self, texts: Sequence[str], embeddings: np.ndarray) -> Matrix:
        """The embeddings, as float32."""
        return np.asarray(embeddings, dtype=np.float32)


_ANALYZERS: tuple[tuple[str, str, tuple[int, int], int], ...] = (
    # (key, analyzer, n-gram range, min document frequency)
    ("word", "word", (1, 2), 1),
    ("char", "char_wb", (2, 5), 2),
)


class TfidfView(FeatureView):
    """Sublinear TF-IDF over word 1-2-grams and char 2-5-grams, each block L2-normalised.

    The vocabulary and IDF are stored explicitly and the weighting is done here, so a loaded view
    produces exactly the matrix the trained one did.
    """

    name = "tfidf"
    default_c = 10.0

    def __init__(self) -> None:
        self.vocab: dict[str, list[str]] = {}
        self.idf: dict[str, np.ndarray] = {}
        self._vectorizers: dict[str, CountVectorizer] = {}

    @staticmethod
    def _counter(analyzer: str, ngrams: tuple[int, int], **kw: Any) -> CountVectorizer:
        return CountVectorizer(analyzer=analyzer, ngram_range=ngrams, lowercase=True, dtype=np.float32, **kw)

    def fit(self, texts: Sequence[str], embeddings: np.ndarray) -> None:
        """Learn each block's vocabulary (terms in at least ``min_df`` texts) and smoothed IDF."""
        n = len(texts)
        for key, analyzer, ngrams, min_df in _ANALYZERS:
            # A min_df above the corpus size would leave no terms at all on tiny datasets.
            counter = self._counter(analyzer, ngrams, min_df=min(min_df, max(1, n // 2)))
            try:
                counts = counter.fit_transform(texts)
            except ValueError:  # empty vocabulary (e.g. only stop characters)
                self.vocab[key], self.idf[key] = [], np.zeros(0, dtype=np.float32)
                continue
            terms = counter.get_feature_names_out().tolist()
            df = np.bincount(counts.indices, minlength=len(terms)).astype(np.float64)
            self.vocab[key] = terms
            self.idf[key] = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        self._vectorizers = {}

    def _vectorizer(self, key: str, analyzer: str, ngrams: tuple[int, int]) -> CountVectorizer:
        vec = self._vectorizers.get(key)
        if vec is None:
            vec = self._counter(analyzer, ngrams, vocabulary={t: i for i, t in enumerate(self.vocab[key])})
            self._vectorizers[key] = vec
        return vec

    def transform(self, texts: Sequence[str], embeddings: np.ndarray) -> Matrix:
        """Sparse rows ``[word block, char block] / sqrt(2)``."""
        blocks = []
        for key, analyzer, ngrams, _ in _ANALYZERS:
            if not self.vocab.get(key):
                blocks.append(sparse.csr_matrix((len(texts), 0), dtype=np.float32))
                continue
            counts = self._vectorizer(key, analyzer, ngrams).transform(texts).tocsr()
            counts.data = (1.0 + np.log(counts.data)).astype(np.float32)
            counts = counts @ sparse.diags(self.idf[key])
            norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            blocks.append(sparse.csr_matrix(sparse.diags(1.0 / norms) @ counts, dtype=np.float32))
        out = sparse.hstack(blocks, format="csr", dtype=np.float32)
        return out * np.float32(1.0 / math.sqrt(len(blocks)))

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Vocabularies as JSON lists, IDF as arrays."""
        return {"vocab": self.vocab}, {f"idf_{k}": v for k, v in self.idf.items()}

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> FeatureView:
        """Restore vocabularies and IDF."""
        view = cls()
        view.vocab = {k: list(v) for k, v in meta["vocab"].items()}
        view.idf = {k: np.asarray(arrays[f"idf_{k}"], dtype=np.float32) for k in view.vocab}
        return view


VIEWS: dict[str, type[FeatureView]] = {cls.name: cls for cls in (EmbeddingView, TfidfView)}


def make_view(name: str) -> FeatureView:
    """A fresh view from the registry; unknown names raise ``KeyError`` listing the known ones."""
    try:
        return VIEWS[name]()
    except KeyError:
        raise KeyError(f"unknown feature view {name!r}; known: {sorted(VIEWS)}") from None
