#!/usr/bin/env bash
# Runs every Go fuzz target in the module for FUZZTIME each (default 5s).
# CI runs it briefly; run it long with: make fuzz FUZZTIME=10m
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
for dir in $(grep -l --include='*_test.go' -r '^func Fuzz' . | xargs -n1 dirname | sort -u); do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "fuzz: $dir $target ($fuzztime)"
    go test "$dir" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"
  done
done
