#!/usr/bin/env bash
# Proves the spec gates bite: in a scratch copy of the repository,
#  1. an openapi.yaml edit without `make generate` makes `make check-generated` fail;
#  2. a removed response field makes `make spec-diff` fail as breaking;
#  3. the same change acknowledged in api/breaking-ignore.txt passes;
#  4. an acknowledgement without a reason is rejected;
#  5. a process left behind by a make run makes scripts/leftovers.sh fail;
#  6. a string property added to openapi.yaml (delta, message, chunk, completion,
#     both choices, tool call, function), then `make generate` and nothing
#     else, reaches streaming users, the accumulator and non-streaming users.
#  7–9. a removed chunk field, a removed or a renamed request property, a removed
#     batch result line field (x-line-schemas) fail spec-diff;
# 10. an invalid example fails spec-validate at its own line;
# 11. check-generated tells regenerated-but-uncommitted code from stale code;
# 12. an operation added to openapi.yaml, then `make generate` and nothing
#     else, fails the client's TestEveryOperationHasAClientMethod and the
#     fake's TestEveryOperationHasAHandler, both naming it.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$work"
cd "$work"
git init -q && git add -A && git -c user.name=gates -c user.email=gates@localhost commit -qm base
base=$(git rev-parse HEAD)

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
# A batch result line carries a chat completion (x-line-schemas): its lines change too.
echo 'GET /v1/files/{file_id}/content removed the optional property `anyOf[#/components/schemas/BatchResultLine]/response/anyOf[#/components/schemas/ChatCompletion]/system_fingerprint` from the response with the `200` status -- reason: gate self-test' >>api/breaking-ignore.txt
echo 'GET /v1/files/{file_id}/content removed the optional property `anyOf[#/components/schemas/BatchResultLine]/response/anyOf[#/components/schemas/BatchResultResponse]/body/anyOf[#/components/schemas/ChatCompletion]/system_fingerprint` from the response with the `200` status -- reason: gate self-test' >>api/breaking-ignore.txt
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

# 6. a new field reaches every decoder with no hand edit: add `gate_note` to
# the delta, the message, the chunk, the completion, both choices and the
# tool call and its function,
# regenerate, and read it back over loopback HTTP, streamed, accumulated and
# not streamed.
git reset -q --hard "$base"
awk '
  /^    (ChatCompletionChunkDelta|ChatCompletionMessage|ChatCompletionChunk|ChatCompletion|ChatCompletionChunkChoice|ChatCompletionChoice|ToolCall|ToolCallFunction):$/ { pending = 1; top = ($1 == "ChatCompletionChunk:" || $1 == "ChatCompletion:") }
  { print }
  pending && /^      properties:$/ {
    print "        gate_note:"
    print "          type: string"
    print "          description: A field added by scripts/test-gates.sh."
    if (top) {
      print "        gate_list:"
      print "          type: array"
      print "          items:"
      print "            type: string"
      print "          description: A list added by scripts/test-gates.sh."
    }
    pending = 0
  }
' openapi.yaml >openapi.yaml.new && mv openapi.yaml.new openapi.yaml
[ "$(grep -c '^        gate_note:$' openapi.yaml)" = 8 ] || fail "could not add gate_note to the eight schemas"
make -s generate >/dev/null
cat >client/gate_note_test.go <<'GO'
package client_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

func TestGateNoteReachesUsers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","gate_note":"top",`+
				`"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi","gate_note":"inner"}}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, note := range []string{"al", "pha"} {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"gate_list\":[%q],\"gate_note\":\"top-%s\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\",\"gate_note\":%q}}]}\n\n", note, note, note)
		}
		_, _ = io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"gate_note\":\"call\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\",\"gate_note\":\"fn\"}}]}}]}\n\n")
		_, _ = io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\",\"gate_note\":\"choice\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	c, err := client.New(client.WithAPIKey("csk-gate"), client.WithBaseURL(srv.URL), client.WithoutEnvironment(), client.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	params := client.ChatCompletionNewParams{Model: "m", Messages: []client.ChatMessage{client.UserMessage("hi")}}

	stream, err := c.Chat.Completions.NewStreaming(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	var acc streaming.ChatCompletionAccumulator
	var notes []string
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		acc.AddChunk(chunk)
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.GateNote != "" {
			notes = append(notes, chunk.Choices[0].Delta.GateNote)
		}
	}
	if fmt.Sprint(notes) != "[al pha]" {
		t.Errorf("(a) streamed deltas carry gate_note %q, want [al pha]", notes)
	}
	final := acc.ChatCompletion()
	if got := final.Choices[0].Message.GateNote; got != "alpha" {
		t.Errorf("(b) the accumulated message has gate_note %q, want the deltas' concatenation %q", got, "alpha")
	}
	if final.GateNote != "top-pha" || final.Choices[0].GateNote != "choice" {
		t.Errorf("(b) the accumulated completion has gate_note %q and its choice %q, want the last chunk's top-pha and choice", final.GateNote, final.Choices[0].GateNote)
	}
	if fmt.Sprint(final.GateList) != "[al pha]" {
		t.Errorf("(b) the accumulated completion has gate_list %q, want the chunks' items [al pha]", final.GateList)
	}
	if calls := final.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].GateNote != "call" || calls[0].Function.GateNote != "fn" {
		t.Errorf("(b) the accumulated tool calls %+v lack the gate_note of the call (call) or its function (fn)", calls)
	}

	resp, err := c.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	// A new optional property is a plain string, like every response field.
	top := resp.GateNote
	if top != "top" || resp.Choices[0].Message.GateNote != "inner" {
		t.Errorf("(c) the completion has gate_note %q and its message %q, want top and inner", top, resp.Choices[0].Message.GateNote)
	}
}
GO
out=$(go test -count=1 -run '^TestGateNoteReachesUsers$' ./client 2>&1) ||
  fail "a field added to openapi.yaml did not reach every decoder after make generate: $out"
echo "gates: ok: a field added to openapi.yaml (delta, message, chunk, completion, choices, tool calls) reaches streams, the accumulator and responses after make generate alone"

# 7–9. a break in what streams carry, or in what requests take, fails spec-diff.
spec_break() { # name, perl substitution on openapi.yaml, what the report must name
  git reset -q --hard "$base"
  perl -0pi -e "$2" openapi.yaml
  git diff --quiet -- openapi.yaml && fail "$1: the edit changed nothing"
  git -c user.name=gates -c user.email=gates@localhost commit -qam "$1"
  if out=$(make -s spec-diff BASE=HEAD~1 2>&1); then
    fail "spec-diff passed although $1: $out"
  fi
  grep -q -- "$3" <<<"$out" || fail "spec-diff did not name $1 ($3): $out"
  echo "gates: ok: spec-diff fails when $1"
}
spec_break "a chunk field is removed" \
  's/(    ChatCompletionChunkDelta:.*?\n)        reasoning:\n(?:          .*\n)+?(        tool_calls:)/$1$2/s' \
  'delta/reasoning'
spec_break "a request property is removed" \
  's/(    ChatCompletionRequest:.*?\n)        prompt_cache_key:\n(?:          .*\n)+?(        reasoning_effort:)/$1$2/s' \
  'removed the request property `prompt_cache_key`'
spec_break "a request property is renamed" \
  's/^        prompt_cache_key:$/        prompt_cache_id:/m' \
  'removed the request property `prompt_cache_key`'
spec_break "a batch result line field is removed" \
  's/(    BatchResultLine:.*?\n)        status:\n(?:          .*\n)+?(        response:)/$1$2/s' \
  'BatchResultLine]/status`'

# 10. an invalid example fails spec-validate, naming its own line.
git reset -q --hard "$base"
line=$(grep -n '^          example: 0.7$' openapi.yaml | head -1 | cut -d: -f1)
[ -n "$line" ] || fail "no temperature example to break"
sed -i "${line}s/0.7/warm/" openapi.yaml
if out=$(make -s spec-validate 2>&1); then
  fail "spec-validate passed an invalid example: $out"
fi
grep -q "^openapi.yaml:${line}: \$.components.schemas.ChatCompletionRequest.properties.temperature.example: " <<<"$out" ||
  fail "spec-validate did not name the example's line ${line}: $out"
echo "gates: ok: an invalid example fails spec-validate at its own line"

# 11. regenerated but not committed is told apart from stale.
git reset -q --hard "$base"
sed -i 's/description: The model that produced the completion.$/description: The model that made the completion./' openapi.yaml
make -s generate >/dev/null
if out=$(make -s check-generated 2>&1); then
  fail "check-generated passed with regenerated, uncommitted code"
fi
grep -q 'not committed' <<<"$out" || fail "check-generated did not say the code is uncommitted: $out"
grep -q 'stale' <<<"$out" && fail "check-generated called regenerated code stale: $out"
echo "gates: ok: check-generated tells regenerated-but-uncommitted code from stale code"

# 12. a new operation needs a client method and a fake handler: add one to
# openapi.yaml (secured by the document's bearerAuth, like the others), run
# `make generate` as a contributor would, and both coverage tests name it.
git reset -q --hard "$base"
git clean -qfd # gate 6's test file would not build against this spec
perl -0pi -e 's{^(  /v1/tcp_warming:\n)}{  /v1/gate_probe:
    get:
      tags: [connection]
      operationId: gateProbe
      summary: An operation added by scripts/test-gates.sh
      responses:
        "200":
          description: The probe answered.
          content:
            application/json:
              schema:
                \$ref: "#/components/schemas/TCPWarmingResponse"
        "401":
          \$ref: "#/components/responses/Unauthorized"
$1}m' openapi.yaml
grep -q '^      operationId: gateProbe$' openapi.yaml || fail "could not add the gateProbe operation"
make -s generate >/dev/null
if out=$(go test -count=1 -run '^TestEveryOperationHasAClientMethod$' ./client 2>&1); then
  fail "TestEveryOperationHasAClientMethod passed although gateProbe has no client method: $out"
fi
grep -qF 'operation gateProbe (GET /v1/gate_probe) has no client method in the operations table' <<<"$out" ||
  fail "TestEveryOperationHasAClientMethod did not name gateProbe: $out"
echo "gates: ok: an operation added to openapi.yaml without a client method fails TestEveryOperationHasAClientMethod, named"
if out=$(go test -count=1 -run '^TestEveryOperationHasAHandler$' ./cerebrastest 2>&1); then
  fail "TestEveryOperationHasAHandler passed although gateProbe has no handler: $out"
fi
grep -qF 'operation gateProbe (GET /v1/gate_probe) has no handler in handlers' <<<"$out" ||
  fail "TestEveryOperationHasAHandler did not name gateProbe: $out"
echo "gates: ok: an operation added to openapi.yaml without a fake handler fails TestEveryOperationHasAHandler, named"
