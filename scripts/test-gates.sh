#!/usr/bin/env bash
# Proves the spec gates bite: in a scratch copy of the repository,
#  1. an openapi.yaml edit without `make generate` makes `make check-generated` fail;
#  2. a removed response field makes `make spec-diff` fail as breaking;
#  3. the same change acknowledged in api/breaking-ignore.txt passes;
#  4. an acknowledgement without a reason is rejected;
#  5. a process left behind by a make run makes scripts/leftovers.sh fail.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$work"
cd "$work"
git init -q && git add -A && git -c user.name=gates -c user.email=gates@localhost commit -qm base

fail() { echo "gates: FAIL: $*" >&2; exit 1; }

# Removes the optional `system_fingerprint` property from the ChatCompletion schema.
awk '
  /^    ChatCompletion:$/ { inblock = 1 }
  inblock && /^        system_fingerprint:$/ { skip = 1; next }
  skip && /^        service_tier:$/ { skip = 0; inblock = 0 }
  !skip { print }
' openapi.yaml >openapi.yaml.new && mv openapi.yaml.new openapi.yaml
grep -q 'system_fingerprint' <(awk '/^    ChatCompletion:$/,/^    ChatCompletionChoice:$/' openapi.yaml) &&
  fail "could not remove system_fingerprint from ChatCompletion"

# 1. stale gen/
if out=$(make -s check-generated 2>&1); then
  fail "check-generated passed although openapi.yaml changed without regenerating"
fi
grep -q 'SystemFingerprint' <<<"$out" || fail "check-generated did not show the gen/ diff: $out"
echo "gates: ok: check-generated fails on a stale gen/ and shows the diff"
git checkout -q -- gen/

# 2. breaking change
git -c user.name=gates -c user.email=gates@localhost commit -qam "remove system_fingerprint"
if out=$(make -s spec-diff BASE=HEAD~1 2>&1); then
  fail "spec-diff passed although a response field was removed: $out"
fi
grep -q 'response-optional-property-removed' <<<"$out" || fail "spec-diff did not name the change: $out"
echo "gates: ok: spec-diff reports a removed response field as breaking"

# 3. acknowledged on purpose
echo 'POST /v1/chat/completions removed the optional property `system_fingerprint` from the response with the `200` status -- reason: gate self-test' >>api/breaking-ignore.txt
out=$(make -s spec-diff BASE=HEAD~1 2>&1) || fail "spec-diff failed although the change is acknowledged: $out"
echo "gates: ok: an acknowledged breaking change passes"

# 4. an acknowledgement without a reason is rejected
echo 'POST /v1/chat/completions removed the optional property `system_fingerprint` from the response with the `200` status' >>api/breaking-ignore.txt
if out=$(make -s spec-diff BASE=HEAD~1 2>&1); then
  fail "spec-diff accepted an ignore entry without a reason"
fi
echo "gates: ok: an ignore entry without a reason is rejected"

# 5. a process left behind is caught (and ended)
tag="gates-$$-$RANDOM"
CEREBRAS_GO_RUN=$tag sleep 300 &
left=$!
disown "$left" # no job report when it is killed
if out=$(CEREBRAS_GO_RUN=$tag scripts/leftovers.sh 2>&1); then
  kill "$left" 2>/dev/null || true
  fail "leftovers passed although a process of the run is alive: $out"
fi
grep -q "pid $left" <<<"$out" || fail "leftovers did not name the process left behind: $out"
out=$(CEREBRAS_GO_RUN=$tag scripts/leftovers.sh 2>&1) || fail "leftovers did not end the process left behind: $out"
echo "gates: ok: a process left behind by a make run fails the run and is ended"
