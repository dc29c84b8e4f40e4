#!/usr/bin/env bash
# Installs Debian's `chromium` for kafidx's browser test (services/kafidx/src/page.e2e.spec.ts),
# unless it is already there. Idempotent: a machine that has it does nothing.
# Needs root (the project's machines run as root) and Debian's package mirror.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
echo "install-chromium: installing Debian's chromium (first run only, ~1 min)" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
