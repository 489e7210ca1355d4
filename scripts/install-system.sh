#!/usr/bin/env bash
# Debian packages the tests and the sound-pack generator need (libsecret-1-0 and libgtk-3-0: the
# Flet desktop client links them). Skips apt when all are present.
set -euo pipefail
packages=(python3-venv chromium xvfb xdotool espeak-ng sox x11-utils libsecret-1-0 libgtk-3-0)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
