"""The PII engine: recognizers + spaCy NER (+ an LLM), calibrated scores, overlap resolution, chunking."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from sanitas.config import current
from sanitas.pii import pool as _pool
from sanitas.pii.calibration import calibrate
from sanitas.pii.chunking import CHUNK_CHARS, iter_chunks, shift
from sanitas.pii.entities import Entity
from sanitas.pii.escapes import unescape_breaks
from sanitas.pii.lexicons import lexicons
from sanitas.pii.llm import LlmClient, LlmConfig, LlmNotConfiguredError
from sanitas.pii.types import METHOD_PARTS, normalize_method, normalize_types

if TYPE_CHECKING:
    from sanitas.pii.recognizers.base import Recognizer

# When a finer type is not requested, its spans are reported under the coarser one that is.
FALLBACK: dict[str, tuple[str, ...]] = {
    "date_of_birth": ("date",),
    "street_address": ("location",),
    "zip_code": ("location", "street_address"),
    "first_name": ("person",),
    "last_name": ("person",),
    "bank_account": ("iban",),
    "iban": ("bank_account",),
}
BATCH_CHUNKS = 512
# The learned entity cores ``SANITAS_PII_NER_CORE`` may name (the first is the default).
NER_CORES = ("token", "spacy")
_DIGIT = re.compile(r"\d")


# The learned cores are imported on first use: they pull in numpy (and the token model's runtime), which
# the heuristics method never needs, and every pool worker would pay for that import at start-up.
def _load_core(spacy_core: bool) -> None:
    if spacy_core:
        from sanitas.pii.ner import load_nlp

        load_nlp()
    else:
        from sanitas.pii import token_ner

        token_ner.load_core()


def _core_entities(spacy_core: bool) -> Any:
    if spacy_core:
        from sanitas.pii.ner import ner_entities

        return ner_entities
    from sanitas.pii import token_ner

    return token_ner.token_entities


@dataclass
class _OpenBatch:
    """A batch whose tasks are out in the worker pool: its results so far and what is still owed."""

    texts: list[str]
    out: list[list[Entity]]
    left: int = 0  # tasks submitted and not yet answered
    planned: bool = False  # every task of the batch has been submitted
    pending: list[Entity] = field(default_factory=list)  # kept spans of the long text being assembled


def merge_same_label(entities: list[Entity]) -> list[Entity]:
    """Union overlapping spans of one label (two recognizers seeing parts of one address)."""
    out: list[Entity] = []
    for e in sorted(entities, key=lambda x: (x.label, x.start, -x.end)):
        last = out[-1] if out else None
        if last is not None and last.label == e.label and e.start < last.end:
            out[-1] = Entity(last.start, max(last.end, e.end), e.label, max(last.score, e.score))
        else:
            out.append(e)
    return out


def _clusters(entities: list[Entity]) -> Iterator[list[Entity]]:
    """Groups of transitively overlapping spans, in text order (sorted input by start)."""
    group: list[Entity] = []
    reach = -1
    for e in entities:
        if group and e.start >= reach:
            yield group
            group, reach = [], -1
        group.append(e)
        reach = max(reach, e.end)
    if group:
        yield group


def _resolve_cluster(group: list[Entity]) -> list[Entity]:
    if len(group) == 1:
        return group
    outer: list[Entity] = []
    reach = -1
    for e in group:
        # Sorted by start then longest first: a span ending within an earlier one is nested in it.
        if e.end <= reach and not (outer and (outer[-1].start, outer[-1].end) == (e.start, e.end)):
            continue
        outer.append(e)
        reach = max(reach, e.end)
    chosen: list[Entity] = []
    for e in sorted(outer, key=lambda x: (-x.score, -(x.end - x.start), x.start)):
        if all(e.end <= c.start or e.start >= c.end for c in chosen):
            chosen.append(e)
    return sorted((_most_specific(e, group) for e in chosen), key=lambda x: x.start)


def _most_specific(e: Entity, group: list[Entity]) -> Entity:
    """A place that holds a street address is that address ("9 Oak Avenue, Dayton"): the model reads
    the whole as a location, the street recognizer the number and street inside it; the finer type is
    the one a consumer acts on (the heal's sensitive check counts addresses, not places)."""
    if e.label == "location" and any(
        x.label == "street_address" and e.start <= x.start and x.end <= e.end for x in group
    ):
        return Entity(e.start, e.end, "street_address", e.score)
    return e


def resolve_overlaps(entities: list[Entity]) -> list[Entity]:
    """Merge same-label overlaps; a span nested in another loses (Presidio's rule: the larger wins);
    partial overlaps keep the higher score, then the longer span. Linear in the number of spans
    apart from the sort: conflicts are settled inside each cluster of overlapping spans."""
    merged = sorted(merge_same_label(entities), key=lambda x: (x.start, -x.end))
    return [e for group in _clusters(merged) for e in _resolve_cluster(group)]


def split_person(text: str, e: Entity, wanted: Container[str]) -> list[Entity]:
    """A person span as first_name / last_name parts when those are requested instead of person."""
    tokens = text[e.start : e.end].split()
    if len(tokens) < 2:
        label = "first_name" if "first_name" in wanted else "last_name"
        return [Entity(e.start, e.end, label, e.score)]
    out = []
    first_end = e.start + len(tokens[0])
    last_start = e.end - len(tokens[-1])
    if "first_name" in wanted:
        out.append(Entity(e.start, first_end, "first_name", e.score))
    if "last_name" in wanted:
        out.append(Entity(last_start, e.end, "last_name", e.score))
    return out


class PiiEngine:
    """Detects PII spans of ``pii_types`` with ``method``; calibrated scores >= ``threshold`` are kept.

    ``setup()`` loads models once; ``analyze_batch`` is pure given the loaded models, so the same engine
    serves every batch of a job (and every worker stage of the executor). A large batch is spread over
    ``processes`` worker processes (default from ``SANITAS_PII_PROCESSES``, see ``sanitas.pii.pool``),
    each with its own engine of the same method, types and threshold; the results are those of the
    in-process path, in input order.
    """

    def __init__(
        self,
        *,
        method: str = "aimon_pii_m1",
        pii_types: list[str] | None = None,
        threshold: float = 0.3,
        llm: LlmConfig | None = None,
        processes: int | None = None,
    ) -> None:
        self.method = normalize_method(method)
        self.pii_types = normalize_types(pii_types)
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = float(threshold)
        self.parts = METHOD_PARTS[self.method]
        if "llm" in self.parts and llm is None:
            llm = LlmConfig.from_env()
        self.llm = llm
        self.processes = _pool.configured_processes() if processes is None else max(1, int(processes))
        self._key: _pool.EngineKey = (self.method, tuple(self.pii_types), self.threshold)
        self._recognizers: list[Recognizer] | None = None
        self._ready = False  # setup() has run
        self._llm_client: LlmClient | None = None
        # The learned entity core (``SANITAS_PII_NER_CORE``): the MiniLM token classifier or spaCy's NER.
        core = current().pii_ner_core.strip().lower()
        if core not in NER_CORES:
            raise ValueError(f"SANITAS_PII_NER_CORE must be one of {', '.join(NER_CORES)}, not {core!r}")
        self._spacy_core = core == "spacy"
        wanted = set(self.pii_types)
        self._wanted = frozenset(wanted)
        # Labels recognizers may emit that end up as a requested type.
        self._emit = wanted | {k for k, targets in FALLBACK.items() if any(t in wanted for t in targets)}
        if wanted & {"first_name", "last_name"}:
            self._emit.add("person")

    def setup(self, *, load_models: bool = True) -> None:
        """Load models once (the recognizers, gazetteers and the entity core of the model method).

        ``load_models=False`` leaves the recognizers, gazetteers and entity core to their first
        in-process use: a caller whose batches all go to the worker pool (a large file) never pays
        for them in this process. The engine counts as ready only once this has succeeded, so a
        failed set-up (no LLM configured, a model that fails to load) is raised again on next use.
        """
        if load_models:
            for rec in self._recognizer_list():
                rec.setup()
            if "model" in self.parts:
                lexicons()
                _load_core(self._spacy_core)
        if "llm" in self.parts:
            if self.llm is None:
                raise LlmNotConfiguredError()
            self._llm_client = LlmClient(self.llm)
        self._ready = True

    def _recognizer_list(self) -> list[Recognizer]:
        """The recognizers of this method, built on first use: a parent whose batches all go to the
        worker pool never imports them (their modules compile some hundred regexes at import)."""
        if self._recognizers is None:
            from sanitas.pii.registry import build_recognizers

            kinds = {"heuristics"} if "heuristics" in self.parts or "model" in self.parts else set()
            if "model" in self.parts:
                kinds.add("model")
            self._recognizers = build_recognizers(kinds=frozenset(kinds), labels=self._emit)
        return self._recognizers

    def _label(self, text: str, e: Entity) -> list[Entity]:
        wanted = self._wanted
        if e.label in wanted:
            return [e]
        if e.label == "person" and wanted & {"first_name", "last_name"}:
            return split_person(text, e, wanted)
        for target in FALLBACK.get(e.label, ()):
            if target in wanted:
                return [Entity(e.start, e.end, target, e.score)]
        return []

    def detect_chunks(self, chunks: list[str]) -> list[list[Entity]]:
        """Raw (uncalibrated, unresolved) spans per chunk, offsets into that chunk."""
        assert self._ready, "setup() first"
        recognizers = self._recognizer_list()
        # Identical texts (templates, repeated signatures) are detected once.
        unique = list(dict.fromkeys(chunks))
        found: dict[str, list[Entity]] = {c: [] for c in unique}
        # Bound methods once per batch: the inner loop runs for every text and recognizer.
        always = [r.find for r in recognizers if not r.needs_digit]
        digit_only = [r.find for r in recognizers if r.needs_digit]
        views = [unescape_breaks(c) for c in unique]
        for chunk, view in zip(unique, views, strict=True):
            extend = found[chunk].extend
            for find in always:
                extend(find(view))
            if _DIGIT.search(view):
                for find in digit_only:
                    extend(find(view))
        if "model" in self.parts:
            core = _core_entities(self._spacy_core)
            for chunk, ner in zip(unique, core(views, min_score=self.threshold), strict=True):
                found[chunk].extend(ner)
        if self._llm_client is not None:
            for chunk in unique:
                found[chunk].extend(self._llm_client.detect(chunk, self.pii_types))
        return [found[c] for c in chunks]

    def _chunks(self, texts: list[str]) -> Iterator[tuple[int, int, str]]:
        for idx, text in enumerate(texts):
            if len(text) <= CHUNK_CHARS:
                yield idx, 0, text
            else:
                for offset, window in iter_chunks(text):
                    yield idx, offset, window

    def _keep(self, ents: list[Entity]) -> list[Entity]:
        """Calibrated spans at or above the threshold (per span: done per chunk, so a long text never
        holds its below-threshold spans)."""
        return [c for c in (calibrate(e) for e in ents) if c.score >= self.threshold]

    def _resolve(self, text: str, kept: list[Entity]) -> list[Entity]:
        """Resolve overlaps and map labels: a text's kept spans to its entities."""
        # Imported on first use: the post-pass pulls in every recognizer module (~250 regexes compiled at
        # import, ~0.08 s), which a parent whose batches all go to the worker pool never needs.
        from sanitas.pii.postpass import refine

        resolved = refine(unescape_breaks(text), resolve_overlaps(kept), min_score=self.threshold)
        return sorted((x for e in resolved for x in self._label(text, e)), key=lambda x: x.start)

    def detect_kept(self, chunks: list[str]) -> list[list[Entity]]:
        """Calibrated spans above the threshold per chunk, offsets into that chunk (a pool task)."""
        return [self._keep(ents) for ents in self.detect_chunks(chunks)]

    def analyze_local(self, texts: list[str]) -> list[list[Entity]]:
        """``analyze_batch`` in this process only (what each pool worker runs)."""
        if not self._ready:
            self.setup()
        raw: list[list[Entity]] = [[] for _ in texts]
        stream = self._chunks(texts)
        while batch := list(islice(stream, BATCH_CHUNKS)):
            results = self.detect_chunks([chunk for _, _, chunk in batch])
            for (idx, offset, _), ents in zip(batch, results, strict=True):
                raw[idx].extend(self._keep(shift(ents, offset) if offset else ents))
        return [self._resolve(text, ents) for text, ents in zip(texts, raw, strict=True)]

    def analyze_batch(self, texts: list[str]) -> list[list[Entity]]:
        """Entities per text, offsets into that text, labels among ``pii_types``.

        Batches of at least ``pool.MIN_TEXTS`` texts or ``pool.MIN_CHARS`` characters go to the worker
        pool when ``processes`` > 1; if the pool breaks, the batch is run again in-process.
        """
        return next(self.analyze_stream([texts]))

    def analyze_stream(self, batches: Iterable[list[str]]) -> Iterator[list[list[Entity]]]:
        """``analyze_batch`` of each batch, in order, with the same results.

        Once a batch goes to the worker pool, the batches after it follow it there as they are read,
        so the next batch's tasks are already out while the caller handles this one's results: the
        workers never idle at a batch boundary (waiting for the last task of a batch, or for the caller
        to write it). At most the pool's in-flight limit of tasks is out at once, so a long stream is
        never held in memory. If the pool breaks, the batches not yet answered run in-process.
        """
        if not self._ready:
            self.setup()
        rest = iter(batches)
        for texts in rest:
            pool = self._pool_for(texts)
            if pool is None:
                yield self.analyze_local(texts)
                continue
            yield from self._stream_pooled(pool, chain([texts], rest))
            return

    def _stream_pooled(
        self, pool: _pool.WorkerPool, batches: Iterator[list[str]]
    ) -> Iterator[list[list[Entity]]]:
        opened: deque[_OpenBatch] = deque()

        def tasks() -> Iterator[tuple[tuple[_OpenBatch, tuple], str, list[str]]]:
            for texts in batches:
                batch = _OpenBatch(texts, [[] for _ in texts])
                opened.append(batch)
                for meta, kind, items in _pool.plan_tasks(texts, pool.processes):
                    batch.left += 1
                    yield (batch, meta), kind, items
                batch.planned = True

        try:
            for (batch, (kind, where, last)), results in pool.run_ordered(self._key, tasks()):
                self._collect(batch, kind, where, last, results)
                batch.left -= 1
                while opened and opened[0].planned and opened[0].left == 0:
                    yield opened.popleft().out
        except _pool.PoolUnavailableError as exc:
            _pool.discard_pool(pool, exc)
            while opened:
                yield self.analyze_local(opened.popleft().texts)
            for texts in batches:
                yield self.analyze_batch(texts)
            return
        while opened:
            yield opened.popleft().out

    def _collect(
        self, batch: _OpenBatch, kind: str, where: Any, last: bool, results: list[list[Entity]]
    ) -> None:
        """One task's answer into its batch: whole texts' entities, or a long text's windows (resolved
        once its last window is in; its windows come back in order)."""
        if kind == "texts":
            for idx, ents in zip(where, results, strict=True):
                batch.out[idx] = ents
            return
        idx, offsets = where
        for offset, ents in zip(offsets, results, strict=True):
            batch.pending.extend(shift(ents, offset) if offset else ents)
        if last:
            batch.out[idx] = self._resolve(batch.texts[idx], batch.pending)
            batch.pending = []

    def uses_pool(self, chars: int) -> bool:
        """Whether an input of about ``chars`` characters would be spread over the worker pool."""
        return self.processes > 1 and "llm" not in self.parts and chars >= _pool.MIN_CHARS

    def _pool_for(self, texts: list[str]) -> _pool.WorkerPool | None:
        # LLM calls are network-bound and carry the endpoint's key: they stay in this process.
        if self.processes < 2 or "llm" in self.parts:
            return None
        if len(texts) < _pool.MIN_TEXTS and sum(map(len, texts)) < _pool.MIN_CHARS:
            return None
        return _pool.get_pool(self.processes, self._key)

    def warm_pool(self) -> bool:
        """Start the worker pool now and set this engine up in every worker (a server at startup, the
        benchmark before timing); False when this engine would not use one."""
        if self.processes < 2 or "llm" in self.parts:
            return False
        pool = _pool.get_pool(self.processes, self._key)
        if pool is None:
            return False
        try:
            pool.warm(self._key)
        except _pool.PoolUnavailableError as exc:
            _pool.discard_pool(pool, exc)
            return False
        return True

    def close(self) -> None:
        """Stop the worker pool (shared by the engines of this process; a later big batch restarts it)."""
        _pool.shutdown_pool()

    def analyze(self, text: str) -> list[Entity]:
        """Entities of one text."""
        return self.analyze_batch([text])[0]
