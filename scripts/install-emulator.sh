#!/usr/bin/env bash
# Installs the local-bigquery emulator in its own Python 3.13 venv (it needs 3.13), with DuckDB's
# extensions installed from their wheels into a private HOME so DuckDB never tries to download them.
# Prints the venv path. Kept outside the repo so clean clones reuse it.
#
# Python 3.13 is taken from, in order: $PYTHON313, python3.13 on the PATH, pyenv's 3.13.x, a 3.13
# that uv already has, or one uv installs (`uv python install 3.13`, which downloads a build; uv
# itself comes from PyPI into a private venv). Without any of them it stops with one line that says
# what to install.
set -euo pipefail
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/hl-vox-timeleft
EMU_DIR=${HL_VOX_EMULATOR_DIR:-$CACHE/local-bigquery-0.3.2}
if [ -f "$EMU_DIR/.ready" ]; then echo "$EMU_DIR"; exit 0; fi

is_313() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; }

find_python313() {
  [ -n "${PYTHON313:-}" ] && { is_313 "$PYTHON313" && echo "$PYTHON313"; return; }
  # A pyenv shim answers `command -v` even when it cannot run, so try each candidate for real.
  local candidate
  for candidate in python3.13 $(pyenv root 2>/dev/null | sed 's|$|/versions/3.13*/bin/python3|'); do
    for expanded in $candidate; do
      is_313 "$expanded" && { echo "$expanded"; return; }
    done
  done
  local uv
  uv=$(command -v uv || true)
  if [ -z "$uv" ]; then
    python3 -m venv "$CACHE/uv" >&2 && "$CACHE/uv/bin/pip" install -q --disable-pip-version-check uv >&2 \
      && uv="$CACHE/uv/bin/uv"
  fi
  [ -n "$uv" ] || return 0
  "$uv" python find 3.13 2>/dev/null && return
  "$uv" python install 3.13 >&2 && "$uv" python find 3.13 2>/dev/null
  return 0
}

PY313=$(find_python313 || true)
if [ -z "$PY313" ]; then
  echo "install-emulator: the BigQuery emulator needs Python 3.13 and none was found or installable: install python3.13 (or \`uv python install 3.13\` on a machine with internet), or set PYTHON313=/path/to/python3.13" >&2
  exit 1
fi
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
