#!/usr/bin/env bash
# The main job on the embedded default: heal the bundled sample (2,100 support tickets with injected defects)
# with every check on, writing the healed file, the manifest, the scores and a readable report under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p out
.venv/bin/sanitas heal sanitas/samples/support_tickets.jsonl --all \
  --out out/healed.jsonl --manifest out/manifest.jsonl --scores out/scores.jsonl --report out/report.html
echo "open out/report.html to see what was found and changed"
