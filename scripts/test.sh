#!/usr/bin/env bash
# The test command: installs what it needs, then lint, types and the whole suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/postgres.sh
bash scripts/chromium.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff format --check sanitas tests bench
.venv/bin/ruff check sanitas tests bench
.venv/bin/mypy sanitas
.venv/bin/python -m pytest -W error "$@"
