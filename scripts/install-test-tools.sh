#!/usr/bin/env bash
# Installs the Debian packages some tests drive, unless they are already there:
#   chromium  kafidx's browser test (services/kafidx/src/page.e2e.spec.ts)
#   nginx     the compose file's nginx.conf, run for real (docker-compose/nginx.int.spec.ts,
#             e2e/zero-downtime.e2e.spec.ts): Debian's full `nginx` (nginx-light is only a transitional
#             package for it since Debian 12), which has the ssl and http_v2 modules the conf needs
# Idempotent: a machine that has them does nothing. Needs root (the project's
# machines run as root) and Debian's package mirror.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-test-tools: installing Debian's ${missing[*]} (first run only, ~1 min)" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the nginx it installs on port 80; the test runs its own, so stop that one.
if [[ " ${missing[*]} " == *" nginx "* ]]; then
  "${sudo_cmd[@]}" /usr/sbin/nginx -s quit 2>/dev/null || true
fi
command -v chromium >/dev/null
[ -x /usr/sbin/nginx ]
/usr/sbin/nginx -V 2>&1 | grep -q -- --with-http_v2_module
