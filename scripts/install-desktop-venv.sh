#!/usr/bin/env bash
# Installs a venv with flet 0.82.2, the last flet whose wheel carries the Linux desktop client
# (flet-desktop 1.0.5 downloads its client on first run, impossible offline), plus what the desktop
# app needs at run time. The app itself is not installed: tests/test_desktop.py puts its checkout on
# PYTHONPATH. Kept outside the repo so clean clones reuse it; the stamp holds the requirements, so a
# change to them rebuilds it. Prints the venv path.
set -euo pipefail
VENV=${HL_VOX_DESKTOP_VENV:-$HOME/.cache/hl-vox-timeleft/flet-0.82.2}
PYTHON=${PYTHON:-python3}
requirements=('flet[all]==0.82.2' 'flet-charts==0.82.2' 'pygame>=2.6,<3' 'google-cloud-bigquery>=3.20,<4'
              'platformdirs>=4' 'filelock>=3.12' 'orjson>=3.9')
stamp="$VENV/.ready"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${requirements[*]}" ]; then echo "$VENV"; exit 0; fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" >&2
"$VENV/bin/pip" install -q --disable-pip-version-check "${requirements[@]}" >&2
echo "${requirements[*]}" > "$stamp"
echo "$VENV"
