"""Export the bundled sentence-transformers model to ONNX (fp32, and int8 scaled per token).

Run by ``scripts/export_onnx.py`` (the set-up calls it) from the installed weights; nothing is
downloaded. The graph holds the whole sentence embedding as the torch embedder computes it: the BERT
encoder (token type ids all zero), mean pooling over the attention mask, then L2 normalisation, so the
ONNX backend only tokenizes, pads and runs it. Files land in ``<model dir>/onnx/`` (see
:func:`sanitas.embeddings.onnx_backend.onnx_file`) with ``export.json`` recording what they came from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from sanitas.embeddings.onnx_backend import EXPORT_FORMAT, ONNX_FILES, onnx_dir
from sanitas.embeddings.onnx_quant import quantize_per_token

log = logging.getLogger(__name__)
OPSET = 17
# Files earlier export formats wrote that no engine reads any more (format 1's per-batch int8).
STALE_FILES = ("model_int8.onnx",)


def source_digest(model_path: Path) -> str:
    """Digest of the files the export reads (weights, config, pooling): re-export when it changes."""
    h = hashlib.sha256(EXPORT_FORMAT.encode())
    for name in ("config.json", "model.safetensors", "modules.json", "1_Pooling/config.json"):
        f = model_path / name
        h.update(name.encode() + b"\0")
        if f.is_file():
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def is_current(model_path: Path, out_dir: Path | None = None) -> bool:
    """True when both ONNX files exist and were exported from the model as it is now."""
    out = out_dir or onnx_dir(model_path)
    meta = out / "export.json"
    if not meta.is_file() or not all((out / f).is_file() for f in ONNX_FILES.values()):
        return False
    try:
        return bool(json.loads(meta.read_text()).get("source") == source_digest(model_path))
    except ValueError:
        return False


def _check_pooling(model_path: Path) -> None:
    """Refuse a model whose sentence-transformers pipeline is not mean pooling (+ normalise)."""
    pooling = model_path / "1_Pooling" / "config.json"
    if pooling.is_file():
        cfg = json.loads(pooling.read_text())
        others = [
            k
            for k, v in cfg.items()
            if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"
        ]
        if not cfg.get("pooling_mode_mean_tokens") or others:
            raise ValueError(f"{model_path}: only mean pooling can be exported (config: {cfg})")


def export_fp32(model_path: Path, target: Path) -> None:
    """Trace the encoder + mean pooling + L2 normalisation into ``target`` (ONNX, dynamic batch/length)."""
    import torch
    from transformers import AutoModel

    _check_pooling(model_path)
    # Eager attention traces to plain MatMul/Softmax, which ONNX Runtime fuses and quantises well.
    bert = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
    bert.eval()

    class Sentence(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            # Exactly sentence-transformers' Pooling(mean) and Normalize modules.
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    ids = torch.ones((2, 8), dtype=torch.int64)
    mask = torch.ones((2, 8), dtype=torch.int64)
    with torch.inference_mode():
        torch.onnx.export(
            Sentence(),
            (ids, mask),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def export(model_path: Path, out_dir: Path | None = None, *, force: bool = False) -> Path:
    """Write the fp32 and int8 files and ``export.json`` for ``model_path``; return the folder.

    Skipped (quickly) when the files are current. Each file is written beside its final name and
    renamed into place, so a reader never sees half a model.
    """
    out = out_dir or onnx_dir(model_path)
    if not force and is_current(model_path, out):
        log.info("ONNX files in %s are current", out)
        return out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as tmp:
        fp32, int8 = Path(tmp) / ONNX_FILES["onnx"], Path(tmp) / ONNX_FILES["onnx-int8"]
        export_fp32(model_path, fp32)
        quantize_per_token(fp32, int8)
        meta: dict[str, Any] = {"source": source_digest(model_path), "format": EXPORT_FORMAT, "opset": OPSET}
        meta["files"] = {
            b: {"name": f, "bytes": (Path(tmp) / f).stat().st_size} for b, f in ONNX_FILES.items()
        }
        for f in ONNX_FILES.values():
            os.replace(Path(tmp) / f, out / f)
        (Path(tmp) / "export.json").write_text(json.dumps(meta, indent=1))
        os.replace(Path(tmp) / "export.json", out / "export.json")
    remove_stale(out)
    return out


def remove_stale(out: Path) -> list[str]:
    """Delete the files of earlier export formats from ``out`` (install size); the names removed."""
    gone = [name for name in STALE_FILES if (out / name).is_file()]
    for name in gone:
        (out / name).unlink()
    return gone
