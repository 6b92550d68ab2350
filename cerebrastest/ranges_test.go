package cerebrastest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/client"
)

// documentedRanges are the request ranges the API documents
// (/work/shared/api BATCH-FILES.md §4, REFERENCE.md §3 and §6), which
// openapi.yaml declares and the fake therefore enforces. Each value in ok is
// a boundary the API accepts; each in bad lies just outside and must be
// rejected with a 422 naming loc, its msg containing the matching entry of
// msgs.
var documentedRanges = []struct {
	field    string
	chatOnly bool     // the field does not exist on POST /v1/completions
	loc      []any    // the loc the 422 names, after "body" (default: field)
	ok, bad  []string // JSON values
	msgs     []string // what the msg of each bad value says
}{
	{field: "temperature", ok: []string{"0", "2"}, bad: []string{"-0.01", "2.01"}, msgs: []string{"at least 0", "at most 2"}},
	{field: "top_p", ok: []string{"0", "1"}, bad: []string{"-0.01", "1.01"}, msgs: []string{"at least 0", "at most 1"}},
	{field: "frequency_penalty", ok: []string{"-2", "2"}, bad: []string{"-2.01", "2.01"}, msgs: []string{"at least -2", "at most 2"}},
	{field: "presence_penalty", ok: []string{"-2", "2"}, bad: []string{"-2.01", "2.01"}, msgs: []string{"at least -2", "at most 2"}},
	{field: "top_logprobs", chatOnly: true, ok: []string{"0", "20"}, bad: []string{"-1", "21"}, msgs: []string{"at least 0", "at most 20"}},
	{field: "max_completion_tokens", chatOnly: true, ok: []string{"-1", "0"}, bad: []string{"-2"}, msgs: []string{"at least -1"}},
	{field: "max_tokens", ok: []string{"-1", "0"}, bad: []string{"-2"}, msgs: []string{"at least -1"}},
	{field: "logit_bias", loc: []any{"logit_bias", "42"},
		ok: []string{`{"42":-100}`, `{"42":100}`}, bad: []string{`{"42":-100.01}`, `{"42":100.01}`}, msgs: []string{"at least -100", "at most 100"}},
	// stop is a oneOf string|array, and kin-openapi reports only that no
	// branch matched.
	{field: "stop", ok: []string{`"a"`, `["a","b","c","d"]`}, bad: []string{`["a","b","c","d","e"]`}, msgs: []string{"oneOf"}},
	// maxLength counts characters, not bytes: 1024 two-byte runes fit.
	{field: "prompt_cache_key",
		ok:   []string{jsonString(strings.Repeat("k", 1024)), jsonString(strings.Repeat("é", 1024))},
		bad:  []string{jsonString(strings.Repeat("k", 1025))},
		msgs: []string{"maximum string length is 1024"}},
}

// label names a subtest after a JSON value, shortening long ones.
func label(v string) string {
	r := []rune(v)
	if len(r) <= 24 {
		return v
	}
	return fmt.Sprintf("%s…(%d_characters)", string(r[:8]), len(r))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// validationDetail is the FastAPI 422 body the real API sends.
type validationDetail struct {
	Detail []struct {
		Loc  []any  `json:"loc"`
		Msg  string `json:"msg"`
		Type string `json:"type"`
	} `json:"detail"`
}

func TestDocumentedRangesAreEnforced(t *testing.T) {
	srv, _ := setup(t)
	endpoints := []struct{ name, path, base string }{
		{"chat", "/v1/chat/completions", `"model":"gemma-4-31b","messages":[{"role":"user","content":"one two three"}]`},
		{"completions", "/v1/completions", `"model":"gemma-4-31b","prompt":"one two three"`},
	}
	for _, ep := range endpoints {
		for _, rc := range documentedRanges {
			if rc.chatOnly && ep.path != "/v1/chat/completions" {
				continue
			}
			loc := append([]any{"body"}, rc.loc...)
			if rc.loc == nil {
				loc = []any{"body", rc.field}
			}
			for _, v := range rc.ok {
				t.Run(fmt.Sprintf("%s/%s=%s/accepted", ep.name, rc.field, label(v)), func(t *testing.T) {
					status, body := post(t, srv, ep.path, fmt.Sprintf(`{%s,%q:%s}`, ep.base, rc.field, v), nil)
					if status != http.StatusOK {
						t.Errorf("status %d, want 200: %s", status, body)
					}
				})
			}
			for i, v := range rc.bad {
				t.Run(fmt.Sprintf("%s/%s=%s/rejected", ep.name, rc.field, label(v)), func(t *testing.T) {
					status, body := post(t, srv, ep.path, fmt.Sprintf(`{%s,%q:%s}`, ep.base, rc.field, v), nil)
					if status != http.StatusUnprocessableEntity {
						t.Fatalf("status %d, want 422: %s", status, body)
					}
					var d validationDetail
					if err := json.Unmarshal([]byte(body), &d); err != nil || len(d.Detail) != 1 {
						t.Fatalf("not a FastAPI 422 body (%v): %s", err, body)
					}
					if got := d.Detail[0]; !reflect.DeepEqual(got.Loc, loc) || !strings.Contains(got.Msg, rc.msgs[i]) || got.Type == "" {
						t.Errorf("detail %+v, want loc %v, a msg saying %q and a type", got, loc, rc.msgs[i])
					}
				})
			}
		}
	}
}

// The SDK leaves range checks to the server: an out-of-range value is sent
// as given, and the 422 comes back as an APIError naming the field.
func TestClientSendsOutOfRangeValuesUnchecked(t *testing.T) {
	srv, c := setup(t)
	p := chat("hi")
	p.Temperature = client.Float(2.5)
	_, err := c.Chat.Completions.New(context.Background(), p)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(apiErr.Message, "body.temperature") {
		t.Fatalf("err = %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"temperature":2.5`) {
		t.Errorf("the server saw %d requests, want 1 carrying temperature 2.5", len(reqs))
	}
}
