#!/usr/bin/env bash
# The browser test drives the system's Chromium (never a downloaded browser build).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser test needs Chromium: install it (Debian/Ubuntu: 'sudo apt-get install chromium')," >&2
echo "or put a chromium executable on PATH." >&2
exit 1
