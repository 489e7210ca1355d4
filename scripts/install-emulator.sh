#!/usr/bin/env bash
# Installs the local-bigquery emulator in its own Python 3.13 venv (it needs 3.13), with DuckDB's
# extensions installed from their wheels into a private HOME so DuckDB never tries to download them.
# Prints the venv path. Kept outside the repo so clean clones reuse it.
set -euo pipefail
EMU_DIR=${HL_VOX_EMULATOR_DIR:-$HOME/.cache/hl-vox-timeleft/local-bigquery-0.3.2}
if [ -f "$EMU_DIR/.ready" ]; then echo "$EMU_DIR"; exit 0; fi
PY313=${PYTHON313:-}
if [ -z "$PY313" ]; then
  # A pyenv shim answers `command -v` even when it cannot run, so try each candidate for real.
  for candidate in python3.13 "$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3"; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
      PY313=$candidate; break
    fi
  done
fi
[ -n "$PY313" ] || { echo "install-emulator: Python 3.13 not found (set PYTHON313)" >&2; exit 1; }
rm -rf "$EMU_DIR"
"$PY313" -m venv "$EMU_DIR/venv" >&2
"$EMU_DIR/venv/bin/pip" install -q --disable-pip-version-check local-bigquery==0.3.2 duckdb==1.5.5 \
  duckdb-extension-icu==1.5.5 duckdb-extension-ducklake==1.5.5 duckdb-extension-spatial==1.5.5 >&2
mkdir -p "$EMU_DIR/home"
find "$EMU_DIR/venv" -name '*.duckdb_extension' | while read -r ext; do
  HOME="$EMU_DIR/home" "$EMU_DIR/venv/bin/python" -c \
    "import duckdb, sys; duckdb.connect().execute(f\"INSTALL '{sys.argv[1]}'\")" "$ext"
done
touch "$EMU_DIR/.ready"
echo "$EMU_DIR"
