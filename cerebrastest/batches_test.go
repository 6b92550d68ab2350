package cerebrastest_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/client"
)

// A batch moves one step per retrieval, and its output file holds one line
// per request in Cerebras' shape: custom_id, status, response.
func TestBatchLifecycleAndOutputShape(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	input := `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"llama3.1-8b","messages":[{"role":"user","content":"one"}]}}
{"custom_id":"b","method":"GET","url":"/v1/models","body":{}}
`
	f, err := c.Files.New(ctx, client.FileNewParams{File: strings.NewReader(input), Filename: "in.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Batches.New(ctx, client.BatchNewParams{InputFileID: f.ID, Endpoint: client.BatchEndpointChatCompletions,
		CompletionWindow: client.BatchCompletionWindowHours24})
	if err != nil {
		t.Fatal(err)
	}
	var got []client.BatchStatus
	for range 5 {
		b, err = c.Batches.Get(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.Status)
	}
	want := []client.BatchStatus{client.BatchStatusInProgress, client.BatchStatusFinalizing, client.BatchStatusCompleted,
		client.BatchStatusCompleted, client.BatchStatusCompleted}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if all := srv.Batches(); len(all) != 1 || all[0].ID != b.ID || all[0].Status != client.BatchStatusCompleted {
		t.Errorf("Server.Batches() = %+v", all)
	}

	out := content(t, c, b.OutputFileID)
	var line struct {
		CustomID string          `json:"custom_id"`
		Status   string          `json:"status"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal([]byte(out), &line); err != nil || line.CustomID != "a" || line.Status != "succeeded" ||
		!strings.Contains(string(line.Response), `"content":"You said: one"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("output file:\n%s", out)
	}
	const wantErr = `{"custom_id":"b","error":{"code":"invalid_request","message":"Unsupported request GET /v1/models: a batch runs POST /v1/chat/completions."},"status":"failed"}` + "\n"
	if got := content(t, c, b.ErrorFileID); got != wantErr {
		t.Errorf("error file:\n%s\nwant\n%s", got, wantErr)
	}
}

func content(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	r, err := c.Files.Content(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
