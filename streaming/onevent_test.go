package streaming

import (
	"context"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
)

// TestOnEvent: the hook sees each element, decoded, before Next returns it,
// and not the [DONE] marker; a hook for another element type is never called
// (the last WithOnEvent is the stream's hook).
func TestOnEvent(t *testing.T) {
	body := "data: {\"id\":\"a\",\"choices\":[]}\n\n" +
		"data: {\"id\":\"b\",\"choices\":[],\"usage\":{\"total_tokens\":7}}\n\n" +
		"data: [DONE]\n\n"
	var seen []string
	var total int
	wrongType := false
	s := NewStream[gen.ChatCompletionChunk](serve(t, context.Background(), sse(body)),
		WithOnEvent(func(c *gen.ChatCompletionChunk) {
			seen = append(seen, c.ID)
			if c.Usage != nil {
				total = c.Usage.TotalTokens
			}
		}))
	n := 0
	for s.Next() {
		n++
		if len(seen) != n || seen[n-1] != s.Current().ID {
			t.Fatalf("after element %d the hook saw %v", n, seen)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 2 || total != 7 {
		t.Fatalf("%d elements, usage %d; want 2 and 7", n, total)
	}
	other := NewStream[gen.ChatCompletionChunk](serve(t, context.Background(), sse(body)),
		WithOnEvent(func(*gen.Completion) { wrongType = true }))
	for other.Next() {
	}
	if other.Err() != nil || wrongType {
		t.Fatalf("a hook for another element type: called %v, err %v", wrongType, other.Err())
	}
}
