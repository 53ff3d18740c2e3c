"""Run the exported sentence embedding with ONNX Runtime: no torch, same tokens, same vectors.

The ONNX files live beside the weights they were exported from, in ``<model dir>/onnx/``
(``model.onnx`` fp32; ``model_int8_token.onnx`` int8 with one activation scale per token, see
``onnx_quant``), written by ``scripts/export_onnx.py`` at set-up. Tokenization uses the model's own
``tokenizer.json`` through the ``tokenizers`` library, which is what the torch path's fast tokenizer
wraps, truncated at the same length.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Backends a Settings value may name; "torch" runs sentence-transformers.
BACKENDS = ("torch", "onnx", "onnx-int8")
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model_int8_token.onnx"}
# Bump when the exported graph changes in a way the model's files do not show (re-export at set-up);
# it is part of the ONNX engines' cache identity. /2: int8 scaled per token instead of per batch;
# /3: uint8 weights (exact integer products on CPUs without VNNI, ``onnx_quant.ZERO_POINT``).
EXPORT_FORMAT = "sentence-mean-l2/3"


def onnx_dir(model_path: Path) -> Path:
    """Where the ONNX files of ``model_path`` live."""
    return model_path / "onnx"


def onnx_file(model_path: Path, backend: str) -> Path:
    """The ONNX file for ``backend`` ("onnx" or "onnx-int8") of ``model_path`` (it may not exist)."""
    return onnx_dir(model_path) / ONNX_FILES[backend]


def exported_format(model_path: Path) -> str | None:
    """The export format ``export.json`` records for ``model_path``'s ONNX files (None: no record)."""
    meta = onnx_dir(model_path) / "export.json"
    try:
        value = json.loads(meta.read_text()).get("format")
    except (OSError, ValueError):
        return None
    return str(value) if value is not None else None


class OnnxRunner:
    """A tokenizer and an ONNX Runtime session for one exported model file."""

    def __init__(self, model_path: Path, file: Path, *, max_seq_length: int, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        pad = self.tokenizer.token_to_id("[PAD]")
        self.pad_id = int(pad) if pad is not None else 0
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Threads per run: the embedder runs one pass per core side by side (see embedder._POOL), each
        # on one thread, so ONNX Runtime's own pool would only add hand-offs.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(file), opts, providers=["CPUExecutionProvider"])
        self.dim = int(self.session.get_outputs()[0].shape[-1] or 384)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, special tokens included, truncated to the sequence length."""
        return [list(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """L2-normalised sentence vectors of one padded batch (int64 ids and attention mask)."""
        (out,) = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})
        return np.asarray(out, dtype=np.float32)
