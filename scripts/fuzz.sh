#!/usr/bin/env bash
# Runs every Go fuzz target in the module for FUZZTIME each (default 5s).
# CI runs it briefly; run it long with: make fuzz FUZZTIME=10m
#
# A duration-based -fuzztime races Go's fuzzing coordinator against its own
# deadline (golang/go#75804, fixed in Go 1.27): on a loaded machine a target
# can end with a bare "context deadline exceeded" and no failing input. Such a
# run fails only if a failing input was written or the target's corpus, replayed
# without fuzzing, fails; any other failure fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
# inputs counts the saved inputs of a target (0 without its directory).
inputs() { if [ -d "$1" ]; then ls "$1" | wc -l; else echo 0; fi; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for dir in $(grep -l --include='*_test.go' -r '^func Fuzz' . | xargs -n1 dirname | sort -u); do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "fuzz: $dir $target ($fuzztime)"
    corpus="$dir/testdata/fuzz/$target"
    before=$(inputs "$corpus")
    if go test "$dir" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" 2>&1 | tee "$out"; then
      continue
    fi
    after=$(inputs "$corpus")
    if [ "$after" = "$before" ] && grep -q '^    context deadline exceeded$' "$out" && ! grep -q 'Failing input written' "$out"; then
      echo "fuzz: $target ended on Go's fuzztime deadline race with no failing input; replaying its corpus"
      go test "$dir" -run "^${target}\$" -count=1
      continue
    fi
    exit 1
  done
done
