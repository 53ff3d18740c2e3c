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


# Distinct words whose char n-grams a view remembers (a few hundred bytes each) before starting over.
_MAX_CACHED_WORDS = 200_000


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
        self._word_grams: dict[str, tuple[np.ndarray, np.ndarray]] = {}

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
        self._word_grams = {}

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
            vec = self._vectorizer(key, analyzer, ngrams)
            if analyzer == "char_wb":
                counts = self._char_wb_counts(vec, texts)
            else:
                counts = vec.transform(texts).tocsr()
            counts.data = (1.0 + np.log(counts.data)).astype(np.float32)
            counts = counts @ sparse.diags(self.idf[key])
            norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            blocks.append(sparse.csr_matrix(sparse.diags(1.0 / norms) @ counts, dtype=np.float32))
        out = sparse.hstack(blocks, format="csr", dtype=np.float32)
        return out * np.float32(1.0 / math.sqrt(len(blocks)))

    def _char_wb_counts(self, vec: CountVectorizer, texts: Sequence[str]) -> Matrix:
        """``vec.transform(texts)`` for a ``char_wb`` vectorizer, computed once per distinct word.

        ``char_wb`` n-grams never cross a word boundary (each lowercased, whitespace-split word is padded
        and cut on its own), so a text's counts are the sum of its words' counts. Words repeat a lot,
        and scikit-learn's per-n-gram Python loop was ~80% of this view's cost; the matrix is the same
        (a test compares them), computed as ``text x word`` counts times ``word x term`` counts.
        """
        cache = self._word_grams
        if len(cache) > _MAX_CACHED_WORDS:
            cache.clear()
        analyze = vec.build_analyzer()
        vocab: dict[str, int] = vec.vocabulary
        words: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for r, text in enumerate(texts):
            for w in text.lower().split():
                rows.append(r)
                cols.append(words.setdefault(w, len(words)))
        per_word = []
        for w in words:
            grams = cache.get(w)
            if grams is None:
                found = np.fromiter((vocab[g] for g in analyze(w) if g in vocab), dtype=np.int64)
                terms, counts = np.unique(found, return_counts=True)
                grams = cache[w] = (terms, counts.astype(np.float32))
            per_word.append(grams)
        ones = np.ones(len(rows), dtype=np.float32)
        text_words = sparse.csr_matrix((ones, (rows, cols)), shape=(len(texts), len(words)))
        indptr = np.zeros(len(per_word) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(t) for t, _ in per_word])
        word_terms = sparse.csr_matrix(
            (
                np.concatenate([c for _, c in per_word]) if per_word else np.zeros(0, np.float32),
                np.concatenate([t for t, _ in per_word]) if per_word else np.zeros(0, np.int64),
                indptr,
            ),
            shape=(len(words), len(vocab)),
        )
        out = sparse.csr_matrix(text_words @ word_terms, dtype=np.float32)
        out.sort_indices()
        return out

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
