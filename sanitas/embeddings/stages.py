"""Embedding as executor stages: tokenize, then encode, each run by whichever executor the job uses.

``embed_through`` computes what ``embed_texts`` computes, vector for vector: the missing texts are
tokenized, sorted by token count and cut into the same groups, and each group is one batch of the
encode stage, so every forward pass pads the same texts to the same width whether the group runs here
or in a Ray actor. The model loads in the stage's ``setup()`` (once per worker); the caller only reads
and fills the content cache, so a retried job resumes from the groups already stored.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.embeddings.cache import EmbeddingCache
from sanitas.embeddings.embedder import (
    Embedder,
    default_model_path,
    embed_backend,
    embed_workers,
    get_embedder,
    length_groups,
    model_id,
    plan_missing,
    store_group,
)
from sanitas.embeddings.onnx_backend import onnx_file
from sanitas.jobs.executor import Executor, Stage

MAX_SEQ_LENGTH = 128  # the shared embedder's, part of its cache key


def effective_backend(model_path: Path, backend: str) -> str:
    """The engine an ``Embedder`` really runs: an ONNX one whose file is missing falls back to torch."""
    if backend != "torch" and not onnx_file(model_path, backend).is_file():
        return "torch"
    return backend


class _EmbedderStage:
    """What both stages share: which model, on which engine, with how many passes at once."""

    def __init__(self, model_path: Path, backend: str, workers: int) -> None:
        self.model_path = model_path
        self.backend = backend
        # The caller's pass count travels with the stage: it decides the torch thread count, and with
        # it how each pass is computed, so a worker on another machine embeds like the caller would.
        self.workers = workers
        self.embedder: Embedder | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The model never travels: each worker loads its own in setup().
        return {**self.__dict__, "embedder": None}

    def setup(self) -> None:
        """Load the process-wide embedder for this model and engine."""
        if embed_workers() != self.workers:
            os.environ["SANITAS_EMBED_WORKERS"] = str(self.workers)
        self.embedder = get_embedder(self.model_path, backend=self.backend)

    def _model(self) -> Embedder:
        if self.embedder is None:
            raise RuntimeError(f"{type(self).__name__}.setup() was not called")
        return self.embedder


class TokenizeStage(_EmbedderStage, Stage[str, list[int]]):
    """Texts to the token ids the model reads."""

    name = "tokenize"

    def process_batch(self, batch: list[str]) -> list[list[int]]:
        """Each text's token ids (special tokens included, truncated)."""
        return self._model().token_ids(batch)


class EncodeStage(_EmbedderStage, Stage[list[int], np.ndarray]):
    """Token ids to L2-normalised vectors; one batch is one group of similar length."""

    name = "embed"

    def process_batch(self, batch: list[list[int]]) -> list[np.ndarray]:
        """The group's vectors, in its order."""
        return list(self._model().encode_ids(batch))


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def embed_through(
    executor: Executor,
    texts: Sequence[str],
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 1024,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embed ``texts`` with the configured model through ``executor``; see the module docstring.

    Only texts whose hash is not in ``cache`` are computed; each group is stored as it arrives and
    ``progress(done, total)`` is called after it.
    """
    path = default_model_path()
    backend = effective_backend(path, embed_backend())
    ident = model_id(path, MAX_SEQ_LENGTH, backend)
    n = len(texts)
    keys = [EmbeddingCache.key(ident, t) for t in texts]
    found, todo = plan_missing(keys, cache)
    done = n - sum(len(ix) for _, ix in todo)
    if progress:
        progress(done, n)
    if not todo:
        if n == 0:
            return np.zeros((0, get_embedder(path, backend=backend).dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)
    args = (path, backend, embed_workers())
    todo_texts = [texts[ix[0]] for _, ix in todo]
    ids = [x for out in executor.map(TokenizeStage(*args), _chunks(todo_texts, batch_size)) for x in out]
    groups = length_groups([len(x) for x in ids], batch_size)  # the groups embed_texts makes
    out: np.ndarray | None = None
    batches = ([ids[g] for g in group] for group in groups)
    for group, vecs in zip(groups, executor.map(EncodeStage(*args), batches), strict=True):
        if out is None:
            out = np.zeros((n, len(vecs[0])), dtype=np.float32)
            for i, k in enumerate(keys):
                if k in found:
                    out[i] = found[k]
        done += store_group(out, [todo[g] for g in group], vecs, cache)
        if progress:
            progress(done, n)
    if out is None:  # todo was not empty, so a group must have come back
        raise RuntimeError("the embedding stage returned no vectors")
    return out
