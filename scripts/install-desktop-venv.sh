#!/usr/bin/env bash
# Installs a venv with flet 0.82.2, the last flet whose wheel carries the Linux desktop client
# (flet-desktop 1.0.5 downloads its client on first run, impossible offline), plus the app without
# its deps (they pin flet 1.0.5) and what the desktop app needs at run time. Used by
# tests/test_desktop.py (which also puts its own checkout first on PYTHONPATH). Idempotent: a stamp
# newer than pyproject.toml skips the work. Prints the venv path. Kept outside the repo so clean
# clones reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${HL_VOX_DESKTOP_VENV:-$HOME/.cache/hl-vox-timeleft/flet-0.82.2}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.ready"
# Reinstall when pyproject.toml changed since the venv was made.
if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then echo "$VENV"; exit 0; fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >&2
"$VENV/bin/pip" install -q --disable-pip-version-check 'flet[all]==0.82.2' 'pygame>=2.6,<3' \
  'google-cloud-bigquery>=3.20,<4' >&2
# Editable, so `python -m ui` from this venv runs this checkout's code.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e . >&2
touch "$stamp"
echo "$VENV"
