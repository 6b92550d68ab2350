package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/internal/spec"
)

// TestGenerate: every header parameter of the spec gets an option named
// after its Go name, each operation the options it takes, and an inline
// header parameter (which would have no option) is refused.
func TestGenerate(t *testing.T) {
	doc, err := spec.Load("../../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, err := generate(doc, "../../../gen/cerebras.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func WithCFRay(v string) Option",
		"func WithAPIVersion(v int) Option",
		"func WithDelayTime(v float64) Option",
		`"createChatCompletion": optCFRay | optAmzCfID | optDelayTime | optQueueThreshold | optAPIVersion | optJSONBody | optRequestEncoding,`,
		`"createBatch":          optJSONBody,`,
		`"listPublicModels":     0,`,
		"func (h *headerParams) createChatCompletion() *gen.CreateChatCompletionParams {",
		"func (h *headerParams) listModels() gen.ListModelsParams {",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the output lacks %q", want)
		}
	}

	b, err := os.ReadFile("../../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inline := strings.Replace(string(b), `        - $ref: "#/components/parameters/QueueThreshold"`,
		"        - name: queue_threshold\n          in: header\n          schema:\n            type: integer", 1)
	if inline == string(b) {
		t.Fatal("could not inline the queue_threshold parameter")
	}
	path := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(path, []byte(inline), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err = spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generate(doc, "../../../gen/cerebras.gen.go"); err == nil || !strings.Contains(err.Error(), "inline") {
		t.Errorf("an inline header parameter: err = %v, want it refused", err)
	}
}
