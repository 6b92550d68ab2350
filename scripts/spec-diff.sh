#!/usr/bin/env bash
# Breaking-change gate for openapi.yaml: compares BASE:openapi.yaml with the
# working copy using oasdiff and fails on any breaking change that is not
# acknowledged in api/breaking-ignore.txt.
#
# usage: scripts/spec-diff.sh [BASE]     (default BASE: HEAD~1, the previous commit)
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:-HEAD~1}"
spec=openapi.yaml
oasdiff=(go run github.com/oasdiff/oasdiff@v1.33.0)

if ! git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; then
  echo "spec-diff: no commit '${base}' (a first commit has nothing to diff): pass"
  exit 0
fi
if ! git cat-file -e "${base}:${spec}" 2>/dev/null; then
  echo "spec-diff: ${spec} does not exist at ${base}: nothing to diff: pass"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git show "${base}:${spec}" >"$tmp/base.yaml"
grep -v '^[[:space:]]*\(#\|$\)' api/breaking-severity.txt >"$tmp/severity.txt" || true
grep -v '^[[:space:]]*\(#\|$\)' api/breaking-ignore.txt >"$tmp/ignore.txt" || true
if grep -vq -- ' -- reason: ..' "$tmp/ignore.txt"; then
  echo "spec-diff: every entry of api/breaking-ignore.txt needs ' -- reason: <why>':" >&2
  grep -v -- ' -- reason: ..' "$tmp/ignore.txt" >&2
  exit 1
fi

# oasdiff cannot follow x-event-schema: diff copies in which each stream
# schema is replaced by the schemas of its events, so a change to a chunk is
# seen as a change to the response that streams it.
go run ./internal/cmd/eventschemas <"$tmp/base.yaml" >"$tmp/base.events.yaml"
go run ./internal/cmd/eventschemas <"$spec" >"$tmp/revision.events.yaml"

echo "spec-diff: ${base}:${spec} -> working copy (stream events included)"
"${oasdiff[@]}" changelog "$tmp/base.events.yaml" "$tmp/revision.events.yaml" --format singleline --color never \
  --severity-levels "$tmp/severity.txt"
"${oasdiff[@]}" breaking "$tmp/base.events.yaml" "$tmp/revision.events.yaml" --fail-on ERR --format singleline --color never \
  --severity-levels "$tmp/severity.txt" --err-ignore "$tmp/ignore.txt"
