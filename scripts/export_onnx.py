"""Export the bundled embedding model to ONNX (fp32 and int8) beside its weights; the set-up runs it.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/export_onnx.py [--model DIR] [--out DIR] [--force]

``--model`` defaults to the embedder's model (``SANITAS_EMBEDDER`` or the bundled all-MiniLM-L6-v2),
``--out`` to ``<model>/onnx``, where the embedder looks. Quick and silent when the files are current.
Reads only the installed weights: nothing is downloaded.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sanitas.embeddings.embedder import default_model_path  # noqa: E402
from sanitas.embeddings.onnx_export import export, is_current  # noqa: E402


def main() -> None:
    """Parse options and export unless the files are current."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: the embedder's)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: <model>/onnx)")
    ap.add_argument("--force", action="store_true", help="export even when the files are current")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    model = args.model or default_model_path()
    if not args.force and is_current(model, args.out):
        return
    t0 = time.perf_counter()
    out = export(model, args.out, force=True)
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.1f} MB" for f in sorted(out.glob("*.onnx")))
    print(f"exported {model.name} to {out} in {time.perf_counter() - t0:.0f} s ({sizes})")


if __name__ == "__main__":
    main()
