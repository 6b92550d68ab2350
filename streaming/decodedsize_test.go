package streaming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/decodedsize"
)

// hugeEvent returns the data of an event of about size bytes: prefix, then
// elem repeated (comma-separated), then suffix.
func hugeEvent(prefix, elem, suffix string, size int) string {
	var b strings.Builder
	b.Grow(size + len(elem) + len(suffix))
	b.WriteString(prefix)
	for b.Len() < size-len(suffix) {
		b.WriteString(elem)
		b.WriteByte(',')
	}
	s := strings.TrimSuffix(b.String(), ",")
	return s + suffix
}

// streamOne reads a stream whose only event is data, then [DONE]. It
// returns what reading allocated, what the decoded elements (kept alive)
// hold once the stream is gone, and the stream's error.
func streamOne[T any](data string) (allocated, live int64, err error) {
	body := io.NopCloser(strings.NewReader("data: " + data + "\n\ndata: [DONE]\n\n"))
	var before, read, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var kept []T
	func() {
		s := NewStream[T](&http.Response{StatusCode: 200, Body: body})
		defer s.Close()
		for s.Next() {
			kept = append(kept, s.Current())
		}
		err = s.Err()
	}()
	runtime.ReadMemStats(&read)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return int64(read.TotalAlloc - before.TotalAlloc), int64(after.HeapAlloc) - int64(before.HeapAlloc), err
}

// TestEventDecodedSizeIsBounded: one event costs memory in proportion to
// its size. An event of 16 MiB whose elements are empty objects or nulls
// (each a 40-byte or larger struct from 3 bytes) used to allocate 50 to 80
// times its size; it is now refused, with the same *EventTooLargeError the
// event size limit uses, before anything is decoded. Reading it, transport
// buffers included, allocates a small multiple of its size. Real events as
// large, of text, tool-call fragments or logprobs, decode as before.
func TestEventDecodedSizeIsBounded(t *testing.T) {
	const size = 16 << 20
	// The SSE decoder's buffer doubles up to the event's size and its data
	// is copied once: about 5x the event, whatever the event holds.
	const bound = 8 * size

	hostile := []struct {
		name                 string
		prefix, elem, suffix string
		chunk                bool // gen.ChatCompletionChunk (the fast decoder), else gen.Completion (encoding/json)
	}{
		{"empty choices", `{"choices":[`, `{}`, `]}`, true},
		{"null choices", `{"choices":[`, `null`, `]}`, true},
		{"empty tool calls", `{"choices":[{"delta":{"tool_calls":[`, `{}`, `]}}]}`, true},
		{"empty logprobs", `{"choices":[{"logprobs":{"content":[`, `{}`, `]}}]}`, true},
		{"empty completion choices", `{"choices":[`, `{}`, `]}`, false},
	}
	for _, c := range hostile {
		t.Run(c.name, func(t *testing.T) {
			data := hugeEvent(c.prefix, c.elem, c.suffix, size)
			var n int64
			var err error
			if c.chunk {
				n, _, err = streamOne[gen.ChatCompletionChunk](data)
			} else {
				n, _, err = streamOne[gen.Completion](data)
			}
			t.Logf("%d-byte event: %d MiB allocated (%.1fx), err %v", len(data), n>>20, float64(n)/float64(len(data)), err)
			var tooLarge *EventTooLargeError
			if !errors.As(err, &tooLarge) || !tooLarge.Decoded || tooLarge.Size != len(data) {
				t.Errorf("err = %v, want an *EventTooLargeError for its decoded size", err)
			}
			if n > bound {
				t.Errorf("reading a %d-byte event allocated %d bytes (%.0fx)", len(data), n, float64(n)/float64(len(data)))
			}
		})
	}

	// Events as large that real servers send decode in full, into at most
	// the limit (twice, for the spare capacity of encoding/json's slices).
	real := []struct {
		name  string
		data  func() string
		chunk bool
	}{
		{"text", func() string { return `{"choices":[{"delta":{"content":"` + strings.Repeat("x", size) + `"}}]}` }, true},
		{"tool calls", func() string {
			var b strings.Builder
			b.WriteString(`{"choices":[{"delta":{"tool_calls":[`)
			for i := 0; b.Len() < size; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"index":%d,"function":{"arguments":"{\"k\":%d}"}}`, i, i)
			}
			return b.String() + `]}}]}`
		}, true},
		{"logprobs", func() string {
			return hugeEvent(`{"choices":[{"logprobs":{"content":[`, `{"token":" the","logprob":-0.25,"bytes":[32,116,104,101],"top_logprobs":[{"token":" a","logprob":-1.5,"bytes":[32,97]}]}`, `]}}]}`, size)
		}, true},
		{"raw tokens", func() string { return hugeEvent(`{"choices":[{"tokens":[`, `128000`, `]}]}`, size) }, false},
	}
	for _, c := range real {
		t.Run(c.name, func(t *testing.T) {
			data := c.data()
			var n, live int64
			var err error
			if c.chunk {
				n, live, err = streamOne[gen.ChatCompletionChunk](data)
			} else {
				n, live, err = streamOne[gen.Completion](data)
			}
			t.Logf("%d-byte event: %d MiB allocated (%.1fx), %d MiB live decoded (%.1fx), err %v", len(data), n>>20, float64(n)/float64(len(data)), live>>20, float64(live)/float64(len(data)), err)
			if err != nil {
				t.Fatalf("a real %d-byte event failed: %v", len(data), err)
			}
			if limit := int64(decodedsize.Limit(len(data))); live > 2*limit {
				t.Errorf("a %d-byte event holds %d bytes decoded, over twice its %d-byte limit", len(data), live, limit)
			}
		})
	}
}

// TestStreamRefusesAnEventThatDecodesTooLarge: over loopback, the hostile
// event ends the stream with the typed error, after the events before it.
func TestStreamRefusesAnEventThatDecodesTooLarge(t *testing.T) {
	hostile := hugeEvent(`{"choices":[`, `{}`, `]}`, 1<<20)
	resp := serve(t, context.Background(), sse("data: "+chunkJSON("a")+"\n\ndata: "+hostile+"\n\ndata: [DONE]\n\n"))
	s := NewStream[gen.ChatCompletionChunk](resp)
	got := collect(s)
	var tooLarge *EventTooLargeError
	if strings.Join(got, "") != "a" || !errors.As(s.Err(), &tooLarge) || !tooLarge.Decoded || tooLarge.Limit != decodedsize.Limit(len(hostile)) {
		t.Errorf("chunks %q, err %v; want [a], then an *EventTooLargeError for the decoded size", got, s.Err())
	}
}
