package spec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/internal/spec"
)

// TestResponseBodies: the schemas the operations answer with, JSON bodies
// and stream events, and nothing that is not one JSON value.
func TestResponseBodies(t *testing.T) {
	bodies, err := spec.ResponseBodies(load(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bodies {
		got = append(got, fmt.Sprintf("%s: %s %v", b.Operation, b.Schema, b.Event))
	}
	list := strings.Join(got, "\n")
	for _, want := range []string{
		"POST /v1/chat/completions 200 application/json: ChatCompletion false",
		"POST /v1/chat/completions 200 text/event-stream: ChatCompletionChunk true",
		"POST /v1/completions 200 text/event-stream: Completion true",
		"GET /v1/models/{model_id} 200 application/json: ModelResponse false",
		"DELETE /v1/files/{file_id} 200 application/json: FileDeleted false",
		"GET /v1/batches 200 application/json: BatchList false",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("ResponseBodies lacks %q; it lists:\n%s", want, list)
		}
	}
	if strings.Contains(list, "/content") {
		t.Errorf("a file's content (JSON lines) is listed as one JSON body:\n%s", list)
	}
}
