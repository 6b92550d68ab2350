#!/usr/bin/env bash
# Fails when a process started by this make run is still alive, and ends it.
#
# The Makefile exports CEREBRAS_GO_RUN, a tag unique to one make run, to every
# recipe; every process a recipe starts (go test, a test's servers, their
# children) inherits it. Once the run's work is done, any process other than
# this script and its ancestors that still carries the tag was left behind.
# The scan uses bash builtins only, so it starts no tagged process itself.
set -euo pipefail
tag="${CEREBRAS_GO_RUN:?CEREBRAS_GO_RUN is not set: run this through make}"

# This script and its ancestors (the recipe's shell, make) carry the tag legitimately.
declare -A mine=()
pid=$$
while [ "$pid" -gt 1 ]; do
  mine[$pid]=1
  ppid=""
  while read -r key value; do
    [ "$key" = "PPid:" ] && { ppid=$value; break; }
  done <"/proc/$pid/status" || break
  [ -n "$ppid" ] || break
  pid=$ppid
done

# scan prints the PIDs of tagged processes that are not ours. The go
# command's telemetry sidecar (at most one a day, detached on purpose) is the
# toolchain's, not the run's: it is recognised by GO_TELEMETRY_CHILD.
scan() {
  local dir p entry tagged telemetry
  for dir in /proc/[0-9]*; do
    p=${dir#/proc/}
    [ -n "${mine[$p]:-}" ] && continue
    [ "$p" = "$BASHPID" ] && continue
    tagged=false telemetry=false
    while IFS= read -r -d '' entry; do
      case $entry in
        "CEREBRAS_GO_RUN=$tag") tagged=true ;;
        GO_TELEMETRY_CHILD=*) telemetry=true ;;
      esac
    done 2>/dev/null <"$dir/environ" || true
    if $tagged && ! $telemetry; then echo "$p"; fi
  done
}

# A process killed a moment ago may still be on its way out: look again for a while.
left=""
for _ in $(seq 50); do
  left=$(scan)
  [ -z "$left" ] && break
  sleep 0.1
done
if [ -n "$left" ]; then
  echo "leftovers: processes started by this run are still alive:" >&2
  for p in $left; do
    printf '  pid %s: %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
    kill -9 "$p" 2>/dev/null || true
  done
  echo "leftovers: they have been killed; start servers in their own process group and end the group" >&2
  exit 1
fi
echo "leftovers: no process of this run is left"
