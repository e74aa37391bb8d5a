#!/usr/bin/env bash
# The API contract check (issue 14): an independent fuzzer (schemathesis) reads /api/openapi.json
# from the release binary and checks that the server does exactly what it says: every check, the
# examples, coverage, fuzzing and stateful phases, a fixed seed, a bounded number of examples.
# Exits non-zero on any failure. Usage: tests/contract.sh   (from anywhere; run by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
SEED=${CONTRACT_SEED:-1}
EXAMPLES=${CONTRACT_EXAMPLES:-10}

if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends python3 python3-pip
  else
    echo "python3 with pip is needed to install schemathesis" >&2
    exit 1
  fi
fi
if ! schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m pip install --quiet --user "schemathesis==$SCHEMATHESIS_VERSION" ||
    python3 -m pip install --quiet --user --break-system-packages "schemathesis==$SCHEMATHESIS_VERSION"
  export PATH="$HOME/.local/bin:$PATH"
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

cargo build --release --locked --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/coffer"

# A free loopback port: bind 0, read the port, close (the tiny race is acceptable in CI).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
data=$(mktemp -d)
log="$data/server.log"
password="contract-$RANDOM-$RANDOM-pw"

# Only the settings below: a COFFER_* variable of the caller (CI sets COFFER_BROWSER_TESTS for
# cargo test) would be read as configuration, and an unknown one is refused.
for v in $(compgen -e | grep '^COFFER_' || true); do unset "$v"; done
env -u DISCORD_TOKEN ADMIN_USERNAME=admin ADMIN_PASSWORD="$password" COFFER_WEB__BIND="127.0.0.1:$port" \
  COFFER_DEFAULTS__RATE_LIMIT_PER_MINUTE=0 \
  "$bin" --data-dir "$data" run >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/api/health" >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "coffer exited before answering; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

token=$(curl -fsS -X POST "$base/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# Excluded: logout and refresh would end the fuzzer's own session, restart stops the server, and
# the event stream never ends (it is covered by src/web/tests/stream.rs).
start=$(date +%s)
status=0
SCHEMATHESIS_HOOKS=tests/contract_hooks.py schemathesis run "$base/api/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks all \
  --exclude-path-regex '^/api/(auth/(logout|refresh)|restart|stream)' \
  --seed "$SEED" --max-examples "$EXAMPLES" \
  --phases examples,coverage,fuzzing,stateful \
  --no-color || status=$?
echo "schemathesis took $(($(date +%s) - start)) s (exit $status)"
exit "$status"
