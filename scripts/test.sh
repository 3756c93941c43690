#!/usr/bin/env bash
# The README's test command: install what the tests need, then run every test (arguments go to pytest).
#   - the package with its test extras (pip);
#   - Node.js and npm where absent (apt-get), then the official Node.js SDKs (npm ci in tests/node).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -q '.[test]'

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  $sudo apt-get install -y -q nodejs npm
fi
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

exec python -m pytest "$@"
