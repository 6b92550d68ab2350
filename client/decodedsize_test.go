package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cerebras-go/cerebras/internal/decodedsize"
)

// emptyObjects returns prefix, n empty objects separated by commas, then
// suffix: each `{},` is 3 bytes that decode into a struct of 40 to 200
// bytes, or into a map[string]any, in a slice.
func emptyObjects(prefix string, n int, suffix string) []byte {
	var b bytes.Buffer
	b.Grow(len(prefix) + 3*n + len(suffix))
	b.WriteString(prefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("{}")
	}
	b.WriteString(suffix)
	return b.Bytes()
}

// TestDecodedSizeMemoryIsFlat: a successful body whose value would take far
// more memory decoded than its bytes (empty objects by the million) is
// refused before it is decoded, whatever the call's type, with a
// *ResponseTooLargeError (Decoded) matching ErrResponseTooLarge, and not
// retried. Reading it allocates less than the bound the decoded value is
// held to, 4 times the body plus 64 KiB: a 2.9 MiB list page of {} took
// 302 MiB, a batch whose errors held a million {} 86 MiB. A real body as
// large, of text, decodes as before.
func TestDecodedSizeMemoryIsFlat(t *testing.T) {
	const pageItems = 1_000_000 // 2.9 MiB of `{},`
	ctx := context.Background()
	cases := []struct {
		name string
		body []byte
		call func(c *Client) (any, error)
	}{
		{"Files.ListPage, a 2.9 MiB page of {}", emptyObjects(`{"object":"list","data":[`, pageItems, `],"has_more":false}`),
			func(c *Client) (any, error) { return c.Files.ListPage(ctx, FileListParams{}) }},
		{"Models.List, a 2.9 MiB page of {}", emptyObjects(`{"object":"list","data":[`, pageItems, `]}`),
			func(c *Client) (any, error) { return c.Models.List(ctx) }},
		{"Batches.Get, errors holding a million {}", emptyObjects(`{"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-1","completion_window":"24h","status":"failed","created_at":1,"errors":{"object":"list","data":[`, 1_000_000, `]}}`),
			func(c *Client) (any, error) { return c.Batches.Get(ctx, "batch_1") }},
		{"Chat.Completions.New, choices a huge array of {}", emptyObjects(`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[`, pageItems, `]}`),
			func(c *Client) (any, error) { return c.Chat.Completions.New(ctx, chatParams()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				_, _ = w.Write(tc.body)
			}))
			defer srv.Close()
			c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false), WithMaxRetries(2))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			recordDelays(c)

			var v any
			runtime.GC()
			alloc := allocated(func() { v, err = tc.call(c) })
			limit := decodedsize.Limit(len(tc.body))
			t.Logf("a %.1f MiB body: %.1f MiB allocated (%.1fx its size; bound %.1f MiB); %v",
				float64(len(tc.body))/(1<<20), float64(alloc)/(1<<20), float64(alloc)/float64(len(tc.body)), float64(limit)/(1<<20), err)
			var tl *ResponseTooLargeError
			if !errors.Is(err, ErrResponseTooLarge) || !errors.As(err, &tl) || !tl.Decoded || tl.StatusCode != 200 || tl.Limit != int64(limit) {
				t.Errorf("err = %v, want a *ResponseTooLargeError for the decoded size, limit %d", err, limit)
			}
			if tl != nil && !strings.Contains(err.Error(), "once decoded") {
				t.Errorf("Error() = %q: it should say the decoded size is the limit", err)
			}
			if !nilValue(v) {
				t.Errorf("a value alongside the error: %T", v)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests: a body refused for its decoded size must not be retried", n)
			}
			if alloc > uint64(limit) {
				t.Errorf("allocated %d bytes for a %d-byte body, over the %d-byte bound", alloc, len(tc.body), limit)
			}
		})
	}

	t.Run("a real body as large decodes", func(t *testing.T) {
		text := strings.Repeat("x", 3<<20)
		srv := newServer(t, okJSON(`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"`+text+`"}}]}`))
		c, _ := newTestClient(t, srv)
		cc, err := c.Chat.Completions.New(ctx, chatParams())
		if err != nil || cc.Choices[0].Message.Content != text {
			t.Fatalf("a %d-byte text completion: %v", len(text), err)
		}
	})
}

// nilValue reports whether v is nil or holds a nil pointer.
func nilValue(v any) bool {
	if v == nil {
		return true
	}
	switch p := v.(type) {
	case *FileList:
		return p == nil
	case *ModelList:
		return p == nil
	case *Batch:
		return p == nil
	case *ChatCompletion:
		return p == nil
	}
	return false
}
