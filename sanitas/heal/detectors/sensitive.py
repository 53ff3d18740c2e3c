"""Sensitive information: PII/PHI and secrets, found by the PII engine (``sanitas.pii``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.heal.detectors.base import Detector, DetectorContext, DetectorResult, RequestFlag, register
from sanitas.heal.engine.resultcache import source_digest
from sanitas.heal.engine.rowcache import RowCache

log = logging.getLogger(__name__)

# Types that identify a person or unlock something; an organization, a city or a bare date alone does not.
NOT_SENSITIVE = frozenset({"organization", "location", "date", "url", "age"})
# A secret value is not a plain dictionary word: "my PIN was blocked" names no password.
SECRET_TYPES = frozenset({"password", "api_key", "username"})
_PLAIN_WORD = re.compile(r"^[A-Za-z][a-z']*$")


# Quasi-identifiers: values that many people share. The de-identification literature (Sweeney's
# k-anonymity; HIPAA's expert-determination guidance; GDPR recital 26) separates them from direct
# identifiers: one alone singles out nobody, two of different kinds together can (a given name and a
# birth date). A full name, an e-mail, a phone, card or account number identifies on its own.
QUASI_TYPES = frozenset({"zip_code", "date_of_birth"})
# A person named by one part only ("michael", "Wilson", "von Hippel-Lindau"): shared by many people.
SINGLE_NAME = "single_name_part"
_NAME_LETTERS = re.compile(r"[^\W\d_]+")


def name_parts(value: str) -> set[str]:
    """The distinct given names, surnames and titles of a person span. A word is one part whatever
    joins its letters ("Hippel-Lindau" and "O'Neill" are one surname each), and where the name is
    capitalized its lower-case words are particles of the next part, not parts ("von Hippel-Lindau" is
    one family name; "Gilles de la Tourette" has two parts); an all-lower-case name counts every word."""
    words = [w for w in value.split() if _NAME_LETTERS.search(w)]
    if any(w[:1].isupper() for w in words):
        words = [w for w in words if not w.islower()]
    return {"".join(_NAME_LETTERS.findall(w)).lower() for w in words}


def quasi_kind(entity: dict[str, Any], text: str) -> str | None:
    """The quasi-identifier kind of a sensitive entity, or None for a direct identifier."""
    if entity["label"] in QUASI_TYPES:
        return str(entity["label"])
    if entity["label"] == "person":
        if len(name_parts(text[entity["start"] : entity["end"]])) < 2:
            return SINGLE_NAME
    return None


def row_score(entities: list[dict[str, Any]], text: str) -> float:
    """How strongly a row identifies someone: its strongest direct identifier, or, where two
    quasi-identifiers of different kinds occur together, the weaker of the two strongest kinds."""
    direct = [float(e["score"]) for e in entities if quasi_kind(e, text) is None]
    quasi: dict[str, float] = {}
    for e in entities:
        kind = quasi_kind(e, text)
        if kind is not None:
            quasi[kind] = max(quasi.get(kind, 0.0), float(e["score"]))
    combined = sorted(quasi.values(), reverse=True)
    return max([*direct, combined[1] if len(combined) > 1 else 0.0])


def is_sensitive(entity: dict[str, Any], text: str) -> bool:
    """Keep entities that identify a person or unlock something."""
    if entity["label"] in NOT_SENSITIVE:
        return False
    if entity["label"] in SECRET_TYPES:
        value = text[entity["start"] : entity["end"]].strip().strip('.,;:!?"()')
        return not _PLAIN_WORD.match(value)
    return True


ENGINE_VERSION = "1"  # the per-text entity cache; row scoring is not cached there
_BATCH = 256


def pii_package_dir() -> Path | None:
    """Where ``sanitas.pii`` lives, found without importing it (its import pulls in spaCy and torch)."""
    try:
        spec = find_spec("sanitas.pii")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        if (Path(loc) / "engine.py").is_file():
            return Path(loc)
    return None


_FALLBACK: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
    ("ip_address", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b")),
    ("credit_card", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    ("phone_number", re.compile(r"(?<!\w)\+?\(?\d{1,4}\)?[ .-]?\d{3}[ .-]?\d{3,4}(?:[ .-]?\d{2,4})?(?!\w)")),
)


def _luhn(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def fallback_entities(text: str) -> list[dict[str, Any]]:
    """Pattern-only detection used when the PII engine is unavailable."""
    out: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for label, rx in _FALLBACK:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if label == "credit_card" and not _luhn(re.sub(r"\D", "", m.group(0))):
                continue
            out.append({"start": m.start(), "end": m.end(), "label": label, "score": 0.8})
            taken.append((m.start(), m.end()))
    return sorted(out, key=lambda e: e["start"])


@register
class SensitiveDetector(Detector):
    """Flags rows that identify someone: a direct identifier, or two quasi-identifiers of different kinds
    (``row_score``). A row holding one quasi-identifier alone (a first name, a birth date) keeps its
    entities in the details, unflagged."""

    name = "sensitive"
    order = 5
    run_order = 5
    flags = (
        RequestFlag(
            "remove_sensitive_information", "remove", False, "Remove comments containing PII/PHI or secrets."
        ),
        RequestFlag(
            "anonymize_sensitive_information",
            "anonymize",
            False,
            "Mask PII/PHI in place with [REDACTED_<TYPE>].",
        ),
    )
    depends_on = ("texts",)

    def __init__(self, *, method: str = "aimon_pii_m1", threshold: float = 0.3) -> None:
        self.method = method
        self.threshold = threshold
        self._engine: Any = None
        self.backend = "none"

    @property
    def models(self) -> tuple[str, ...]:  # type: ignore[override]
        """The PII backend in use (the planned one while every row came from the per-text cache)."""
        return (self._planned_backend(),)

    def setup(self) -> None:
        """Load the PII engine once; fall back to a small pattern set when it cannot load."""
        if self._engine is not None or self.backend == "fallback-patterns":
            return
        try:
            from sanitas.pii.engine import PiiEngine

            engine = PiiEngine(method=self.method, pii_types=None, threshold=self.threshold)
            engine.setup()
            self._engine = engine
            self.backend = f"sanitas.pii:{self.method}"
        except Exception:  # noqa: BLE001 - any failure to load means: use the patterns
            self._engine = None
            self.backend = "fallback-patterns"

    def analyze(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        """Entities (dicts with start, end, label, score) per text."""
        self.setup()
        if self._engine is None:
            return [fallback_entities(t) for t in texts]
        found = self._engine.analyze_batch(texts)
        return [[e.to_dict() for e in ents] for ents in found]

    def _planned_backend(self) -> str:
        if self.backend != "none":
            return self.backend
        return f"sanitas.pii:{self.method}" if pii_package_dir() is not None else "fallback-patterns"

    def _engine_version(self, backend: str) -> str:
        """The engine's code, weights and entity core as well as our constant: the PII engine evolves on
        its own, and ``SANITAS_PII_NER_CORE`` changes what it finds."""
        if not backend.startswith("sanitas.pii"):
            return f"{ENGINE_VERSION}:"
        from sanitas.config import current

        pkg = pii_package_dir()
        digest = source_digest(pkg)[:16] if pkg is not None else ""
        return f"{ENGINE_VERSION}:{current().pii_ner_core.strip().lower()}:{digest}"

    def cache_params(self) -> dict[str, Any]:
        """Backend, method and threshold, and the PII engine's code version."""
        backend = self._planned_backend()
        return {
            "backend": backend,
            "method": self.method,
            "threshold": self.threshold,
            "engine": self._engine_version(backend),
        }

    def _entities(self, ctx: DetectorContext) -> list[list[dict[str, Any]]]:
        """Entities per row: from the per-text cache, the rest computed (the engine loads only then)."""
        backend = self._planned_backend()
        cache = None
        if ctx.cache_dir is not None:
            namespace = f"pii:{backend}:{self.threshold}:{self._engine_version(backend)}"
            cache = RowCache(ctx.cache_dir / "heal_rows.sqlite", namespace=namespace)
        ents: list[list[dict[str, Any]] | None] = [None] * ctx.n
        if cache is not None:
            for i, v in cache.get_many(ctx.texts).items():
                ents[i] = v
        todo = [i for i in range(ctx.n) if ents[i] is None]
        for part, res in self._compute(ctx, todo, backend):
            if ctx.should_cancel is not None and ctx.should_cancel():
                break
            for i, r in zip(part, res, strict=True):
                ents[i] = r
            # only what the planned backend found goes under its namespace (not the fallback's)
            if cache is not None and self.backend == backend:
                cache.put_many([(ctx.texts[i], r) for i, r in zip(part, res, strict=True)])
        if cache is not None:
            cache.close()
        return [e or [] for e in ents]

    def _compute(
        self, ctx: DetectorContext, todo: list[int], backend: str
    ) -> Iterator[tuple[list[int], list[list[dict[str, Any]]]]]:
        """``(rows, their entities)`` per batch of ``todo``: PII detection as a stage on the job's
        executor (locally or on Ray, one engine per worker), or in this process without one. A stage
        that cannot run (the engine does not load there) leaves the rest to this process, which falls
        back to the pattern set when the engine cannot load here either."""
        parts = [todo[s : s + _BATCH] for s in range(0, len(todo), _BATCH)]
        done = 0
        if parts and ctx.executor is not None and backend.startswith("sanitas.pii"):
            from sanitas.pii.stages import DetectStage  # the package imports its engine: only here

            stage = DetectStage(method=self.method, threshold=self.threshold)
            try:
                runs = ctx.executor().map(stage, ([ctx.texts[i] for i in p] for p in parts))
                for part, res in zip(parts, runs, strict=False):
                    self.backend = backend
                    yield part, res
                    done += 1
            except Exception as exc:  # noqa: BLE001 - the stage's failure is the engine's: run here
                log.warning("PII detection stage failed (%s); detecting in this process", exc)
            else:
                return
        for part in parts[done:]:
            yield part, self.analyze([ctx.texts[i] for i in part])

    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Run the engine (through the per-text cache) and keep the sensitive types."""
        ents = self._entities(ctx)
        scores = np.zeros(ctx.n)
        details: list[dict[str, Any] | None] = [None] * ctx.n
        counts: dict[str, int] = {}
        for i, row in enumerate(ents):
            keep = [e for e in row if is_sensitive(e, ctx.texts[i])]
            if keep:
                scores[i] = row_score(keep, ctx.texts[i])
                details[i] = {
                    "entities": keep,
                    "direct": any(quasi_kind(e, ctx.texts[i]) is None for e in keep),
                }
                for e in keep:
                    counts[e["label"]] = counts.get(e["label"], 0) + 1
        flags = scores >= self.threshold
        summary = {"backend": self.backend, "entity_counts": counts, "flagged": int(flags.sum())}
        return DetectorResult(
            scores=scores, flags=flags, threshold=self.threshold, summary=summary, details=details
        )
