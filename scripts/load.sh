#!/usr/bin/env bash
# Webhook acknowledgement latency under load, with the durable journal on
# (SQLite, the default) and off (in-memory queue), on loopback with wrk.
#
#   scripts/load.sh                 # builds target/release/gitops-guard
#   GG_BIN=path/to/gitops-guard RATE=500 DURATION=30 scripts/load.sh
#
# Every request is a correctly signed `pull_request.opened` delivery with a
# distinct X-GitHub-Delivery (the HMAC covers only the body, so one body
# and one signature serve all requests). wrk paces each connection with
# Lua's delay() to hold about RATE requests/s in total. The App's GitHub
# API points at a closed port: workers fail fast and retry later, so the
# journal sees inserts, claims and failures while we measure the ack.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE="${RATE:-500}"
DURATION="${DURATION:-30}"
CONNS="${CONNS:-10}"
PORT="${PORT:-18080}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [[ -z "${GG_BIN:-}" ]]; then
    cargo build --release --bin gitops-guard >&2
    GG_BIN=target/release/gitops-guard
fi

work="$(mktemp -d /tmp/gg-load.XXXXXX)"
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
openssl genrsa -out "$work/key.pem" 2048 2>/dev/null
secret="load-test-secret"
body='{"action":"opened","number":1,"pull_request":{"number":1,"state":"open","draft":false,"head":{"ref":"f","sha":"1111111111111111111111111111111111111111"},"base":{"ref":"main","sha":"2222222222222222222222222222222222222222"},"user":{"login":"dev"}},"repository":{"full_name":"acme/deploy","name":"deploy","owner":{"login":"acme"}},"installation":{"id":1}}'
printf '%s' "$body" > "$work/body.json"
sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')"
delay_ms=$(( CONNS * 1000 / RATE ))

cat > "$work/load.lua" <<LUA
local f = io.open("$work/body.json", "rb"); local body = f:read("*a"); f:close()
local threads, counter, tid = 0, 0, 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function request()
  counter = counter + 1
  local id = string.format("load-%s-%d-%d", "$RANDOM$RANDOM", tid, counter)
  return wrk.format("POST", "/webhook", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "pull_request",
    ["X-GitHub-Delivery"] = id,
    ["X-Hub-Signature-256"] = "$sig",
  }, body)
end
function delay() return $delay_ms end
local codes = {}
function response(status) codes[status] = (codes[status] or 0) + 1 end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

run() {
    local label="$1"; shift
    env "$@" GITHUB_APP_ID=1 GITHUB_APP_PRIVATE_KEY_PATH="$work/key.pem" \
        GITHUB_WEBHOOK_SECRET="$secret" GITHUB_API_URL="http://127.0.0.1:9" \
        LISTEN_ADDR="127.0.0.1:$PORT" GITOPS_GUARD_QUEUE=1000000 \
        GITOPS_GUARD_REDELIVER_SECS=0 RUST_LOG=error \
        "$GG_BIN" serve 2>"$work/$label.log" &
    pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    # Warm-up, then the measured run.
    wrk -t2 -c"$CONNS" -d3s -s "$work/load.lua" "http://127.0.0.1:$PORT" >/dev/null
    echo "== $label: ~${RATE} req/s, ${CONNS} connections, ${DURATION}s"
    wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$work/load.lua" "http://127.0.0.1:$PORT" | grep RESULT
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

run "journal-sqlite" GITOPS_GUARD_DB="$work/journal.sqlite"
run "journal-sqlite-sync-normal" GITOPS_GUARD_DB="$work/journal2.sqlite" GITOPS_GUARD_DB_SYNC=normal
run "memory" GITOPS_GUARD_JOURNAL=memory
