#!/usr/bin/env bash
# Installs everything the test suite needs (system packages, app venv, BigQuery emulator), then runs
# the linter, the type checker and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/install-app.sh dev
HL_VOX_DESKTOP_VENV=$(bash scripts/install-desktop-venv.sh | tail -n 1)
export HL_VOX_DESKTOP_VENV
HL_VOX_EMULATOR_DIR=$(bash scripts/install-emulator.sh | tail -n 1)
export HL_VOX_EMULATOR_DIR
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
