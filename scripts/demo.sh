#!/usr/bin/env bash
# The main job on the embedded default: import BANKING77's training split and export it back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
SHARED=${SANITAS_SHARED:-../shared}
.venv/bin/sanitas datasets import demo/banking77 "$SHARED/data/banking77/train.csv"
.venv/bin/sanitas datasets export demo/banking77 out/banking77.jsonl
echo "exported to out/banking77.jsonl"
