package main

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cerebras-go/cerebras/internal/spec"
)

// TestGenerate: each component header is named by the key its responses
// use; one that no response sends, or sends under two names, is an error
// rather than a guess.
func TestGenerate(t *testing.T) {
	doc, err := spec.Load("../../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := generate(doc, "apierror")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`HeaderXRatelimitResetTokensMinute = "x-ratelimit-reset-tokens-minute"`,
		`HeaderRetryAfterMs = "retry-after-ms"`, `HeaderXRequestID = "x-request-id"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output lacks %s", want)
		}
	}

	ref := func(name string) *openapi3.HeaderRef {
		return &openapi3.HeaderRef{Ref: "#/components/headers/" + name, Value: &openapi3.Header{}}
	}
	mk := func(headers map[string]*openapi3.HeaderRef, components ...string) *openapi3.T {
		d := &openapi3.T{Paths: openapi3.NewPaths(), Components: &openapi3.Components{Headers: openapi3.Headers{}, Responses: openapi3.ResponseBodies{}}}
		for _, c := range components {
			d.Components.Headers[c] = &openapi3.HeaderRef{Value: &openapi3.Header{}}
		}
		d.Components.Responses["R"] = &openapi3.ResponseRef{Value: &openapi3.Response{Headers: headers}}
		return d
	}
	if _, err := generate(mk(map[string]*openapi3.HeaderRef{"x-a": ref("A")}, "A", "Unused"), "p"); err == nil || !strings.Contains(err.Error(), "Unused") {
		t.Errorf("an unsent component header: %v", err)
	}
	if _, err := generate(mk(map[string]*openapi3.HeaderRef{"x-a": ref("A"), "x-b": ref("A")}, "A"), "p"); err == nil || !strings.Contains(err.Error(), "sent as") {
		t.Errorf("a header sent under two names: %v", err)
	}
}
