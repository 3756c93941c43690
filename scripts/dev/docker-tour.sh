#!/usr/bin/env bash
# The README's tour, run from the host against the Docker image, every answer checked.
#
#   bash scripts/dev/docker-tour.sh            # build the image, run it, tour it, remove the container
#   MODSIM_TOUR_PORT=18080 bash scripts/dev/docker-tour.sh
#   MODSIM_TOUR_COMPOSE=0 bash scripts/dev/docker-tour.sh   # skip the compose.yaml run at the end
#
# Needs a running Docker daemon, curl and python3 on the host. Without a registry of container images,
# make the base image first: sudo bash scripts/dev/make-base-image.sh (see the README's "Docker").
# Exits non-zero at the first answer that is not what the README says.
set -euo pipefail
cd "$(dirname "$0")/../.."

image="${MODSIM_TOUR_IMAGE:-modsim}"
name="modsim-tour-$$"
work="$(mktemp -d /tmp/modsim-tour.XXXXXX)"
checks=0
project="modsimtour$$"
compose=()

cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  if [ "${#compose[@]}" -gt 0 ]; then
    MODSIM_FIXTURES_DIR="$work/fixtures" MODSIM_PUBLISH="127.0.0.1:$port" \
      "${compose[@]}" -p "$project" -f compose.yaml down --timeout 10 >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() {
  checks=$((checks + 1))
  echo "ok   $*"
}
# json FILE EXPR: evaluate a Python expression over the JSON document `d` read from FILE
json() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

port="${MODSIM_TOUR_PORT:-8080}"
if ! python3 -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1]))).close()' "$port" 2>/dev/null; then
  port="$(python3 -c 'import socket; s = socket.create_server(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  echo "note: port ${MODSIM_TOUR_PORT:-8080} is busy on this host; publishing on $port instead"
fi
base="http://127.0.0.1:$port"

docker info >/dev/null 2>&1 || fail "no Docker daemon answers (start dockerd)"

# --- build ---------------------------------------------------------------------------------------
echo "== docker build -t $image ."
start=$(date +%s)
if ! docker build -q -t "$image" . >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  docker image inspect python:3.11-slim >/dev/null 2>&1 ||
    echo "hint: no python:3.11-slim here; without a registry: sudo bash scripts/dev/make-base-image.sh" >&2
  fail "docker build"
fi
ok "built $image in $(($(date +%s) - start)) s, $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
[ "$(docker image inspect -f '{{.Config.User}}' "$image")" = "modsim" ] || fail "the image does not run as modsim"
ok "runs as the non-root user modsim"

# --- run: the README's docker line ---------------------------------------------------------------
echo "== docker run -d -p $port:8080 $image"
docker run -d --name "$name" -p "$port:8080" "$image" >/dev/null
for _ in $(seq 1 100); do
  curl -sf "$base/__modsim/health" -o "$work/health.json" && break
  sleep 0.1
done
[ "$(cat "$work/health.json" 2>/dev/null)" = '{"status": "ok"}' ] ||
  fail "health without a token: $(cat "$work/health.json" 2>/dev/null) (logs: $(docker logs "$name" 2>&1 | tail -5))"
ok "GET /__modsim/health without a token from the host: {\"status\": \"ok\"} and nothing else"

ADMIN=$(docker logs "$name" 2>&1 | sed -n 's/^  admin token (X-Modsim-Token): //p')
[ "${#ADMIN}" -ge 20 ] || fail "no generated admin token in docker logs"
ok "docker logs shows the generated admin token (${#ADMIN} characters)"
H=(-H "X-Modsim-Token: $ADMIN")

code=$(curl -s -o "$work/refused.json" -w '%{http_code}' "$base/__modsim/journal")
[ "$code" = 401 ] || fail "journal without the token: HTTP $code $(cat "$work/refused.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Modsim-Token: wrong' "$base/__modsim/journal")
[ "$code" = 401 ] || fail "journal with a wrong token: HTTP $code"
ok "admin calls without the token or with a wrong one: 401"

curl -sf "${H[@]}" "$base/__modsim/health" -o "$work/health-full.json"
[ "$(json "$work/health-full.json" '"baidu" in d["vendors"] and "version" in d')" = True ] ||
  fail "health with the token: $(cat "$work/health-full.json")"
ok "health with the token: the full document (version $(json "$work/health-full.json" 'd["version"]'))"

# --- 1. a token, with the demo Baidu app ---------------------------------------------------------
curl -s "$base/oauth/2.0/token?grant_type=client_credentials&client_id=demo-baidu-api-key&client_secret=demo-baidu-secret-key" \
  -o "$work/token.json"
TOKEN=$(json "$work/token.json" 'd["access_token"]')
[[ "$TOKEN" == 24.* ]] || fail "oauth token: $(cat "$work/token.json")"
ok "1. oauth token: ${TOKEN:0:12}..."

# --- 2. an image that contains a verdict (made inside the container: nothing installed on the host) -
docker exec "$name" modsim image --scenario explicit_with_phone --format jpeg -o /tmp/avatar.jpg >/dev/null
docker cp -q "$name:/tmp/avatar.jpg" "$work/avatar.jpg"
[ "$(head -c 3 "$work/avatar.jpg" | od -An -tx1 | tr -d ' \n')" = ffd8ff ] || fail "avatar.jpg is not a JPEG"
ok "2. docker exec modsim image --scenario explicit_with_phone: a $(wc -c <"$work/avatar.jpg")-byte JPEG"

# --- 3. the seed document's curl form ------------------------------------------------------------
face_audit() {
  curl -s "$base/rest/2.0/solution/v1/face_audit?access_token=$1" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode configId=1 --data-urlencode "images@$work/avatar.b64" -o "$2"
}
base64 -w0 "$work/avatar.jpg" >"$work/avatar.b64"
face_audit "$TOKEN" "$work/audit.json"
[ "$(json "$work/audit.json" '(d["result"][0]["res_code"], sorted(d["result"][0]["res_msg"]))')" = "(1, [101, 301])" ] ||
  fail "face_audit: $(head -c 400 "$work/audit.json")"
ok "3. face_audit: res_code 1, res_msg [101, 301] (explicit content, a phone number)"

# --- 4. what happened, and why (with the token) --------------------------------------------------
curl -sf "${H[@]}" "$base/__modsim/journal?vendor=baidu&limit=2" -o "$work/journal.json"
[ "$(json "$work/journal.json" '[(e["operation"], e["status"]) for e in d["entries"]]')" = "[('token', 200), ('face_audit', 200)]" ] ||
  fail "journal: $(head -c 600 "$work/journal.json")"
[ "$(json "$work/journal.json" 'd["entries"][1]["scenario"]')" = "['explicit_with_phone']" ] ||
  fail "journal scenario: $(head -c 600 "$work/journal.json")"
remote=$(json "$work/journal.json" 'd["entries"][1]["remote"]')
python3 -c 'import ipaddress, sys; sys.exit(ipaddress.ip_address(sys.argv[1]).is_loopback)' "$remote" ||
  fail "the host's requests reached the container from loopback ($remote): not what -p does"
! grep -q "demo-baidu-secret-key" "$work/journal.json" || fail "the journal shows a secret to a remote caller"
ok "4. journal with the token: token + face_audit, scenario explicit_with_phone; the host is remote ($remote), secrets masked"

# --- a fault: fail twice, then succeed -----------------------------------------------------------
curl -sf "${H[@]}" -X POST "$base/__modsim/faults" -o /dev/null -d \
  '{"rules":[{"vendor":"baidu","operation":"face_audit","first_n":2,"action":{"type":"error","code":18}}]}'
codes=()
for i in 1 2 3; do
  face_audit "$TOKEN" "$work/fault$i.json"
  codes+=("$(json "$work/fault$i.json" 'd.get("error_code", 0)')")
done
[ "${codes[*]}" = "18 18 0" ] || fail "fault first_n 2: error codes ${codes[*]}"
curl -sf "${H[@]}" "$base/__modsim/faults" -o "$work/faults.json"
[ "$(json "$work/faults.json" '(d["rules"][0]["seen"], d["rules"][0]["hits"])')" = "(3, 2)" ] ||
  fail "fault counters: $(cat "$work/faults.json")"
ok "fault (error 18, first_n 2): face_audit answers 18, 18, then a result; seen 3, hits 2"

# --- the clock: a month later the token has expired ----------------------------------------------
curl -sf "${H[@]}" -X POST "$base/__modsim/clock" -d '{"advance_s": 2592001}' -o "$work/clock.json"
face_audit "$TOKEN" "$work/expired.json"
[ "$(json "$work/expired.json" 'd.get("error_code")')" = 111 ] || fail "after the clock: $(cat "$work/expired.json")"
ok "clock +30 days: the same token now answers 111 (expired)"

curl -sf "${H[@]}" -X POST "$base/__modsim/reset" -o /dev/null
curl -sf "${H[@]}" "$base/__modsim/journal" -o "$work/empty.json"
[ "$(json "$work/empty.json" 'len(d["entries"])')" = 0 ] || fail "reset left journal entries"
ok "reset with the token: back to the fixtures"

# --- Docker's own view -----------------------------------------------------------------------------
for _ in $(seq 1 40); do
  status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
  [ "$status" = starting ] || break
  sleep 1
done
[ "$status" = healthy ] || fail "HEALTHCHECK: $status"
ok "HEALTHCHECK: healthy (the token is set; health needs none)"
[ "$(docker exec "$name" id -u)" = 10001 ] || fail "not running as uid 10001"
pid1=$(docker exec "$name" python -c 'print(" ".join(open("/proc/1/cmdline").read().split("\0")[1:]).strip())')
[[ "$pid1" == */modsim\ serve ]] || fail "PID 1 is not modsim serve but: $pid1"
ok "PID 1 is modsim serve, uid 10001"

start=$(date +%s%N)
docker stop "$name" >/dev/null
stop_ms=$((($(date +%s%N) - start) / 1000000))
[ "$(docker inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] || fail "exit code $(docker inspect -f '{{.State.ExitCode}}' "$name")"
docker logs "$name" 2>&1 | grep -q '^modsim: shutting down' || fail "no clean shutdown in the logs"
[ "$stop_ms" -lt 5000 ] || fail "docker stop took $stop_ms ms"
ok "docker stop: $stop_ms ms, exit code 0, clean shutdown on SIGTERM"
docker rm "$name" >/dev/null

# --- compose.yaml: fixtures from a host folder -----------------------------------------------------
if [ "${MODSIM_TOUR_COMPOSE:-1}" = 1 ]; then
  if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
  fi
fi
if [ "${#compose[@]}" -gt 0 ]; then
  echo "== ${compose[*]} -f compose.yaml up (fixtures from $work/fixtures)"
  mkdir -p "$work/fixtures"
  cat >"$work/fixtures/mine.yaml" <<'YAML'
scenarios:
  - name: tour_mounted
    description: defined in a host folder mounted into the container
    text: ["QQ 123456789"]
YAML
  chmod -R a+rX "$work"
  export MODSIM_FIXTURES_DIR="$work/fixtures" MODSIM_PUBLISH="127.0.0.1:$port" MODSIM_ADMIN_TOKEN=tour-fixed-token
  "${compose[@]}" -p "$project" -f compose.yaml config -q || fail "compose config"
  "${compose[@]}" -p "$project" -f compose.yaml up -d >"$work/compose.log" 2>&1 || {
    cat "$work/compose.log" >&2
    fail "compose up"
  }
  for _ in $(seq 1 100); do
    curl -sf "$base/__modsim/health" -o /dev/null && break
    sleep 0.1
  done
  curl -sf -H 'X-Modsim-Token: tour-fixed-token' "$base/__modsim/scenarios" -o "$work/scenarios.json" ||
    fail "compose: scenarios with the fixed token"
  [ "$(json "$work/scenarios.json" 'any(s["name"] == "tour_mounted" for s in d["scenarios"])')" = True ] ||
    fail "compose: the mounted fixture's scenario is missing"
  ok "compose: up, token from MODSIM_ADMIN_TOKEN, the mounted folder's scenario tour_mounted is served"
  for _ in $(seq 1 40); do
    cid=$("${compose[@]}" -p "$project" -f compose.yaml ps -q modsim)
    status=$(docker inspect -f '{{.State.Health.Status}}' "$cid")
    [ "$status" = starting ] || break
    sleep 1
  done
  [ "$status" = healthy ] || fail "compose healthcheck: $status"
  ok "compose healthcheck: healthy"
  "${compose[@]}" -p "$project" -f compose.yaml down --timeout 10 >/dev/null 2>&1
  compose=()
  unset MODSIM_ADMIN_TOKEN
else
  echo "note: no docker compose here (or MODSIM_TOUR_COMPOSE=0): compose.yaml not run"
fi

echo "docker tour: $checks checks passed"
