#!/usr/bin/env bash
# The main job, offline: starts the fake Cerebras API (cmd/cerebras-fake),
# runs every example program against it, and stops the server's process group.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || true # the server's whole process group
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "demo: building the fake server and the examples"
go build -o "$work/bin/" ./cmd/cerebras-fake ./examples/...
(cd otelcerebras && go build -o "$work/bin/otelcerebras-example" ./example) # a module of its own

# set -m starts the server in a process group of its own (its PID is the group's).
set -m
"$work/bin/cerebras-fake" -addr 127.0.0.1:0 -url-file "$work/url" -chunk-delay 15ms >"$work/fake.log" 2>&1 &
pid=$!
set +m
for _ in $(seq 100); do
  [ -s "$work/url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/fake.log"; echo "demo: the fake server did not start" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/url" ] || { echo "demo: the fake server did not report its URL" >&2; exit 1; }

export CEREBRAS_BASE_URL
CEREBRAS_BASE_URL=$(cat "$work/url")
export CEREBRAS_API_KEY=demo-key
unset CEREBRAS_CUSTOM_HEADERS
export CEREBRAS_BATCH_POLL=10ms # the fake moves a batch on at every poll (examples/batch)
echo "demo: fake Cerebras API at $CEREBRAS_BASE_URL (pid $pid)"

for ex in chat streaming accumulator tools agent structured choices concurrent timeouts errors completions models batch bulk; do
  echo
  echo "=== examples/$ex"
  "$work/bin/$ex"
done
echo
echo "=== otelcerebras/example (OpenTelemetry spans and metrics, printed by the stdout exporters)"
"$work/bin/otelcerebras-example"
echo
echo "demo: all examples ran against the fake server"
