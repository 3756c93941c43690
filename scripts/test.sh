#!/usr/bin/env bash
# The README's test command: install what the tests need, then run every test (arguments go to pytest).
#   - the package with its test extras (pip);
#   - Node.js and npm where absent (apt-get), then the official Node.js SDKs (npm ci in tests/node);
#   - Chromium (/usr/bin/chromium) and a CJK font where absent (apt-get), for the dashboard's browser tests;
#   - redis-server where absent (apt-get): the shared-state tests use the Redis at 127.0.0.1:6379 (one is
#     started here if none answers) and start and stop Redis servers of their own.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -q '.[test]'

missing=()
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
# the dashboard's browser tests (tests/ui) drive Debian's Chromium, never a downloaded browser; a CJK
# font so the vendors' Chinese texts render (and the README's screenshot shows them)
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list ':lang=zh' 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
redis_up() { python -c 'import redis; redis.Redis(socket_connect_timeout=1).ping()' >/dev/null 2>&1; }
if ! redis_up; then
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
fi
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

exec python -m pytest "$@"
