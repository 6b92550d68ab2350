#!/usr/bin/env bash
# make check-generated: regenerates, then says which of two things is wrong:
#  - stale: openapi.yaml (or a generator) changed and the generated code was
#    not regenerated — `make generate` changes it (the diff is shown);
#  - uncommitted: it was regenerated and matches, but is not committed.
# usage: scripts/check-generated.sh "<generated paths>"   (from the Makefile)
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a paths <<<"${1:?the generated paths}"

# The working copy of the generated files, content included (untracked too).
state() {
  { git diff --binary HEAD -- "${paths[@]}"
    git ls-files -o --exclude-standard -z -- "${paths[@]}" | xargs -0r sha256sum; } | sha256sum
}

before=$(state)
before_diff=$(git diff HEAD -- "${paths[@]}")
make -s generate >/dev/null
after=$(state)

if [ "$before" != "$after" ]; then
  # Show what regenerating changed, relative to what was there.
  git diff HEAD -- "${paths[@]}" | diff <(echo "$before_diff") - | sed -n 's/^> //p' | head -200 || true
  git status --short -- "${paths[@]}"
  echo "check-generated: the generated code (${paths[*]}) is stale against openapi.yaml: run 'make generate' and commit the result" >&2
  exit 1
fi
if [ -n "$(git status --porcelain -- "${paths[@]}")" ]; then
  git status --short -- "${paths[@]}"
  echo "check-generated: the generated code matches openapi.yaml but is not committed: commit ${paths[*]}" >&2
  exit 1
fi
echo "check-generated: ${paths[*]} match openapi.yaml and are committed"
