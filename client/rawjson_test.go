package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// rawJSON returns v.RawJSON(), failing the test when v has no such method.
func rawJSON(t *testing.T, v any) string {
	t.Helper()
	r, ok := v.(interface{ RawJSON() string })
	if !ok {
		t.Fatalf("%T has no RawJSON method", v)
	}
	return r.RawJSON()
}

// Bodies with what encoding the decoded value again loses: members sent as
// zero (omitempty drops them), members no field holds, escapes, number
// spellings and spacing that json.Marshal rewrites, and key order.
const (
	rawChatJSON = `{"id":"chatcmpl-raw","object":"chat.completion","created":0,"model":"llama3.1-8b",` +
		`"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"H\u00e9llo\n","reasoning":""}}],` +
		`"usage":{"prompt_tokens":12, "completion_tokens":2,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":0}},` +
		`"time_info":{"queue_time":1.50E-5,"total_time":0.020},"x_added_later":{"list":[1,2.50,null],"s":"\/"} }`
	rawCompletionJSON = `{"id":"cmpl-raw","object":"text_completion","created":0,"model":"llama3.1-8b",` +
		`"choices":[{"index":0,"text":" there","finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0}},"x_added_later":true}`
	rawModelJSON       = `{"id":"llama3.1-8b","object":"model","created":0,"owned_by":"Meta","x_added_later":[0]}`
	rawModelsJSON      = `{"object":"list","data":[` + rawModelJSON + `, {"id":"qwen-3-32b","object":"model","created":0,"owned_by":"Qwen"}],"x_added_later":0}`
	rawPublicModelJSON = `{"id":"gpt-oss-120b","name":"GPT OSS","created":0,"x_added_later":{}}`
	rawPublicModels    = `{"object":"list","data":[` + rawPublicModelJSON + `],"x_added_later":0}`
	rawFileJSON        = `{"id":"file-raw","object":"file","bytes":0,"created_at":0,"filename":"in.jsonl","purpose":"batch","x_added_later":null}`
	rawFilesJSON       = `{"object":"list","data":[` + rawFileJSON + `,{"id":"file-2","object":"file","bytes":1}],"has_more":false,"x_added_later":0}`
	rawFileDeletedJSON = `{"id":"file-raw","object":"file","deleted":false,"x_added_later":0}`
	rawBatchJSON       = `{"id":"batch-raw","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-raw","completion_window":"24h",` +
		`"status":"completed","created_at":0,"request_counts":{"total":0,"completed":0,"failed":0},"metadata":{},"x_added_later":0}`
	rawBatchesJSON = `{"object":"list","data":[` + rawBatchJSON + `],"has_more":false,"x_added_later":0}`
)

// TestRawJSONIsTheBodyReceived: every call that returns a decoded body
// gives, through RawJSON, the JSON the server sent, byte for byte: members
// sent as zero and members the SDK does not know included. Encoding the
// value is what it was: RawJSON is never encoded.
func TestRawJSONIsTheBodyReceived(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, body string
		call       func(*Client) (any, error)
	}{
		{"Chat.Completions.New", rawChatJSON, func(c *Client) (any, error) { return c.Chat.Completions.New(ctx, chatParams()) }},
		{"Completions.New", rawCompletionJSON, func(c *Client) (any, error) {
			return c.Completions.New(ctx, CompletionNewParams{Model: "llama3.1-8b", Prompt: Prompt("Once")})
		}},
		{"Models.List", rawModelsJSON, func(c *Client) (any, error) { return c.Models.List(ctx) }},
		{"Models.ListFormat", rawModelsJSON, func(c *Client) (any, error) { return c.Models.ListFormat(ctx, ModelFormatOpenrouter) }},
		{"Models.Get", rawModelJSON, func(c *Client) (any, error) { return c.Models.Get(ctx, "llama3.1-8b") }},
		{"Models.GetFormat", rawModelJSON, func(c *Client) (any, error) { return c.Models.GetFormat(ctx, "llama3.1-8b", ModelFormatOpenrouter) }},
		{"Models.ListPublic", rawPublicModels, func(c *Client) (any, error) { return c.Models.ListPublic(ctx) }},
		{"Models.GetPublic", rawPublicModelJSON, func(c *Client) (any, error) { return c.Models.GetPublic(ctx, "gpt-oss-120b") }},
		{"Files.New", rawFileJSON, func(c *Client) (any, error) {
			return c.Files.New(ctx, FileNewParams{File: strings.NewReader(batchJSONL), Filename: "in.jsonl", Purpose: FilePurposeBatch})
		}},
		{"Files.Get", rawFileJSON, func(c *Client) (any, error) { return c.Files.Get(ctx, "file-raw") }},
		{"Files.Delete", rawFileDeletedJSON, func(c *Client) (any, error) { return c.Files.Delete(ctx, "file-raw") }},
		{"Files.ListPage", rawFilesJSON, func(c *Client) (any, error) { return c.Files.ListPage(ctx, FileListParams{}) }},
		{"Batches.New", rawBatchJSON, func(c *Client) (any, error) {
			return c.Batches.New(ctx, BatchNewParams{InputFileID: "file-raw", Endpoint: BatchEndpointChatCompletions, CompletionWindow: BatchCompletionWindowHours24})
		}},
		{"Batches.Get", rawBatchJSON, func(c *Client) (any, error) { return c.Batches.Get(ctx, "batch-raw") }},
		{"Batches.Cancel", rawBatchJSON, func(c *Client) (any, error) { return c.Batches.Cancel(ctx, "batch-raw") }},
		{"Batches.Wait", rawBatchJSON, func(c *Client) (any, error) { return c.Batches.Wait(ctx, "batch-raw", BatchWaitParams{}) }},
		{"Batches.ListPage", rawBatchesJSON, func(c *Client) (any, error) { return c.Batches.ListPage(ctx, BatchListParams{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, okJSON(tc.body))
			c, _ := newTestClient(t, srv)
			v, err := tc.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if r := srv.last(); r.SpecErr != nil {
				t.Fatalf("the request breaks openapi.yaml: %v", r.SpecErr)
			}
			if got := rawJSON(t, v); got != tc.body {
				t.Errorf("RawJSON() =\n%s\nwant the body received:\n%s", got, tc.body)
			}
			// The value encodes as one decoded by encoding/json does.
			want := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := json.Unmarshal([]byte(tc.body), want); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if w, _ := json.Marshal(want); string(got) != string(w) {
				t.Errorf("json.Marshal(resp) =\n%s\nwant\n%s", got, w)
			}
		})
	}
}

// TestRawJSONOfListItems: an item of a list, as the paging iterators yield
// it, gives its own JSON as received.
func TestRawJSONOfListItems(t *testing.T) {
	ctx := context.Background()
	items := func(body string) []string {
		var l struct{ Data []json.RawMessage }
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, d := range l.Data {
			s = append(s, string(d))
		}
		return s
	}
	for _, tc := range []struct {
		name, body string
		list       func(*Client) ([]any, error)
	}{
		{"Models.List", rawModelsJSON, func(c *Client) ([]any, error) {
			l, err := c.Models.List(ctx)
			if err != nil {
				return nil, err
			}
			return collect(seq(l.Data))
		}},
		{"Models.ListPublic", rawPublicModels, func(c *Client) ([]any, error) {
			l, err := c.Models.ListPublic(ctx)
			if err != nil {
				return nil, err
			}
			return collect(seq(l.Data))
		}},
		{"Files.List", rawFilesJSON, func(c *Client) ([]any, error) { return collect(c.Files.List(ctx, FileListParams{})) }},
		{"Batches.List", rawBatchesJSON, func(c *Client) ([]any, error) { return collect(c.Batches.List(ctx, BatchListParams{})) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, okJSON(tc.body))
			c, _ := newTestClient(t, srv)
			got, err := tc.list(c)
			if err != nil {
				t.Fatal(err)
			}
			want := items(tc.body)
			if len(got) != len(want) {
				t.Fatalf("%d items, want %d", len(got), len(want))
			}
			for i, v := range got {
				if r := rawJSON(t, v); r != want[i] {
					t.Errorf("item %d: RawJSON() =\n%s\nwant\n%s", i, r, want[i])
				}
			}
		})
	}
}

// TestRawJSONOfStreamChunks: each chunk of a stream gives its own event's
// data, byte for byte, and keeps it, and its fields, after the stream has
// read on (the stream's buffer is reused; the chunk's bytes are its own).
// Encoding a chunk is what it was.
func TestRawJSONOfStreamChunks(t *testing.T) {
	ctx := context.Background()
	const n = 300 // enough bytes that the stream's buffer is refilled
	chatEvent := func(i int) string {
		if i == n-1 {
			return `{"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[],` +
				`"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}, "x_added_later":[0]}`
		}
		return fmt.Sprintf(`{"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"t\u00e9%d "},"finish_reason":null}],"x_added_later":%d.0}`, i, i)
	}
	completionEvent := func(i int) string {
		return fmt.Sprintf(`{"id":"c","object":"text_completion","created":0,"model":"m","choices":[{"index":0,"text":"t%d"}], "x_added_later":%d}`, i, i)
	}
	for _, tc := range []struct {
		name   string
		event  func(int) string
		stream func(*Client) ([]any, error)
	}{
		{"Chat.Completions.NewStreaming", chatEvent, func(c *Client) ([]any, error) {
			s, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
			if err != nil {
				return nil, err
			}
			var v []any
			for ch, err := range s.All() {
				if err != nil {
					return nil, err
				}
				v = append(v, ch)
			}
			return v, nil
		}},
		{"Completions.NewStreaming", completionEvent, func(c *Client) ([]any, error) {
			s, err := c.Completions.NewStreaming(ctx, CompletionNewParams{Model: "m", Prompt: Prompt("Once")})
			if err != nil {
				return nil, err
			}
			var v []any
			for ch, err := range s.All() {
				if err != nil {
					return nil, err
				}
				v = append(v, ch)
			}
			return v, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/event-stream")
				for i := range n {
					_, _ = io.WriteString(w, "data: "+tc.event(i)+"\n\n")
				}
				_, _ = io.WriteString(w, "data: [DONE]\n\n")
			})
			c, _ := newTestClient(t, srv)
			chunks, err := tc.stream(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(chunks) != n {
				t.Fatalf("%d chunks, want %d", len(chunks), n)
			}
			for i, ch := range chunks {
				if got, want := rawJSON(t, ch), tc.event(i); got != want {
					t.Fatalf("chunk %d: RawJSON() =\n%s\nwant the event's data:\n%s", i, got, want)
				}
				// Its fields too are intact, and encode as ever.
				want := reflect.New(reflect.TypeOf(ch)).Interface()
				if err := json.Unmarshal([]byte(tc.event(i)), want); err != nil {
					t.Fatal(err)
				}
				got, err := json.Marshal(ch)
				if w, _ := json.Marshal(want); err != nil || string(got) != string(w) {
					t.Fatalf("chunk %d: json.Marshal = %s, %v; want %s", i, got, err, w)
				}
			}
		})
	}
}

// collect gathers what a paging iterator yields, as values of any type.
func collect[T any](items iter.Seq2[T, error]) ([]any, error) {
	var v []any
	for item, err := range items {
		if err != nil {
			return nil, err
		}
		v = append(v, item)
	}
	return v, nil
}

// seq yields the items of a page, as a paging iterator does.
func seq[T any](items []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, item := range items {
			if !yield(item, nil) {
				return
			}
		}
	}
}
