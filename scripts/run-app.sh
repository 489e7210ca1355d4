#!/usr/bin/env bash
# Installs the app into .venv and runs it (local store, no cloud account needed). Args go to the app,
# e.g. `bash scripts/run-app.sh --web`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-app.sh
exec .venv/bin/python -m ui "$@"
