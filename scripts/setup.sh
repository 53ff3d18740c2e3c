#!/usr/bin/env bash
# Create .venv and install Sanitas with its pinned dependencies (idempotent; quick when already done).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.sanitas-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The CPU build of torch comes from the local wheel cache; any other spec pulls several GB of CUDA.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
# The embedder's ONNX files (fp32, int8), exported from the installed weights; quick when current.
HF_HUB_OFFLINE=1 .venv/bin/python scripts/export_onnx.py
# An editable install writes no bytecode (pip compiles a regular install's), and where the environment
# forbids writing it at run time (PYTHONDONTWRITEBYTECODE) every process would compile the package from
# source on start: about 0.1 s for a CLI command and each of its workers. Compile it once here; Python
# checks each file's timestamp, so an edited module is still read from its source.
.venv/bin/python -m compileall -q sanitas
