#!/usr/bin/env bash
# Reproduces a newcomer's first run, as CI and a new user meet the repository:
# a clean clone of HEAD with empty Go and npm caches and no CEREBRAS_*
# variables, then the README's two commands, `make demo` and `make test`.
#
#   scripts/newcomer.sh [-n RUNS] [-hog] [-warm]
#
# -n RUNS  clean clones to try in a row (default 1)
# -hog     keep both cores busy with a benchmark loop meanwhile, like a shared CI runner
# -warm    keep the Go and npm caches between runs (only the first run starts empty)
# Each run's output is in the printed log directory. Exits non-zero when any run failed.
set -euo pipefail
runs=1 hog=false warm=false
while [ $# -gt 0 ]; do
  case $1 in
    -n) runs=$2; shift 2 ;;
    -hog) hog=true; shift ;;
    -warm) warm=true; shift ;;
    *) echo "usage: $0 [-n RUNS] [-hog] [-warm]" >&2; exit 2 ;;
  esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
logs="$work/logs"
mkdir -p "$logs"
hogs=()
cleanup() {
  for p in "${hogs[@]}"; do kill -- "-$p" 2>/dev/null || true; done
  chmod -R u+w "$work/cache" 2>/dev/null || true
  rm -rf "$work/cache" "$work"/clone-*
}
trap cleanup EXIT
if $hog; then
  set -m # each hog in its own process group, ended whole
  for _ in 1 2; do
    (cd "$repo" && while :; do go test -run '^$' -bench . -benchtime 300x ./streaming >/dev/null 2>&1 || true; done) &
    hogs+=($!)
  done
  set +m
fi
failed=0
for i in $(seq "$runs"); do
  if ! $warm || [ "$i" = 1 ]; then
    chmod -R u+w "$work/cache" 2>/dev/null || true
    rm -rf "$work/cache"
  fi
  mkdir -p "$work/cache"
  clone="$work/clone-$i"
  git clone -q "$repo" "$clone"
  start=$(date +%s)
  verdict=pass
  if ! (cd "$clone" && env $(env | grep -o '^CEREBRAS_[A-Z_]*' | sed 's/^/-u /') \
      GOCACHE="$work/cache/go-build" GOMODCACHE="$work/cache/go-mod" npm_config_cache="$work/cache/npm" \
      bash -c 'make demo && make test') >"$logs/run-$i.log" 2>&1; then
    verdict=FAIL
    failed=$((failed + 1))
  fi
  echo "newcomer: run $i of $runs: $verdict in $(($(date +%s) - start)) s (hog: $hog, log: $logs/run-$i.log)"
  rm -rf "$clone"
done
trap - EXIT
cleanup
echo "newcomer: $((runs - failed)) of $runs passed; logs in $logs"
[ "$failed" = 0 ]
