#!/usr/bin/env bash
# The broker's runtime (broker/node, or the npm project named as the argument: the tests'
# OpenID provider in tests/oidc): Node.js 20 or newer, then its packages exactly as
# package-lock.json pins them (npm ci). Node.js comes from Debian's packages when the
# machine has none (as root, or through sudo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Installing Node.js and npm from Debian's packages..."
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "The broker needs Node.js 20 or newer; this machine has $(node --version)." >&2
  exit 1
fi
# npm ci only when the lock file changed since the last install.
project=${1:-broker/node}
stamp=$project/node_modules/.installed
if [ ! -f "$stamp" ] || [ "$project/package-lock.json" -nt "$stamp" ]; then
  (cd "$project" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
