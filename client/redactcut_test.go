package client

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/internal/redact"
)

// TestNoCutKeepsAKeyPrefix: the SDK cuts text it hands back (an error's
// message at 512 bytes, its body at 64 KiB, a ResponseError's body at
// 1 KiB); each cut is made in the redacted text, so a key that the cut
// crosses, also after earlier echoes of it, leaves none of itself behind.
func TestNoCutKeepsAKeyPrefix(t *testing.T) {
	bearer := "Authorization: Bearer " + leakKey
	threeKeys := func() string { // the third key starts at offset 1060 and crosses 1024 once redacted
		head := "[" + leakKey + " " + leakKey + " "
		return head + strings.Repeat("x", 1060-len(head)) + leakKey + "]"
	}
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body := readAll(r)
		switch marker := func(m string) bool { return strings.Contains(body, m) }; {
		case marker("text-512"):
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, strings.Repeat("x", 512-20-len("Authorization: Bearer "))+" "+bearer+" tail")
		case marker("json-64k"):
			head := `{"error":{"message":"bad"},"pad":"`
			writeJSON(w, 400, head+strings.Repeat("x", 64<<10-20-len(head))+leakKey+`"}`)
		case marker("three-keys"):
			writeJSON(w, 200, threeKeys())
		case marker("stream-three-keys"):
			writeJSON(w, 200, threeKeys())
		case marker("stream-text-512"):
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: error\ndata: "+strings.Repeat("x", 512-20-len("Authorization: Bearer "))+" "+bearer+" tail\n\n")
		}
	})
	c, _ := newTestClient(t, srv, WithAPIKey(leakKey), WithMaxRetries(0))
	ctx := context.Background()
	params := func(text string) ChatCompletionNewParams {
		return ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage(text)}}
	}
	chat := func(text string) error {
		_, err := c.Chat.Completions.New(ctx, params(text))
		return err
	}
	stream := func(text string) error {
		s, err := c.Chat.Completions.NewStreaming(ctx, params(text))
		if err != nil {
			return err
		}
		defer s.Close()
		for _, err := range s.All() {
			if err != nil {
				return err
			}
		}
		return nil
	}
	prefix := leakKey[:8]
	noPrefix := func(t *testing.T, what, s string) {
		t.Helper()
		if strings.Contains(s, prefix) {
			t.Errorf("%s holds a prefix of the key: %q", what, s[max(0, strings.Index(s, prefix)-20):])
		}
	}
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"plain-text 400, key across byte 512 of the message", func() error { return chat("text-512") }},
		{"JSON 400, key across 64 KiB of the body", func() error { return chat("json-64k") }},
		{"malformed 200, third key across 1 KiB", func() error { return chat("three-keys") }},
		{"non-stream response to a stream, third key across 1 KiB", func() error { return stream("stream-three-keys") }},
		{"in-stream text error, key across byte 512", func() error { return stream("stream-text-512") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil {
				t.Fatal("no error")
			}
			noPrefix(t, "Error()", err.Error())
			switch e := err.(type) {
			case *APIError:
				noPrefix(t, "Body", string(e.Body))
				noPrefix(t, "Message", e.Message)
				if !strings.Contains(string(e.Body)+e.Message, "xxxxxxxx") {
					t.Errorf("the text around the key is gone: %q", e.Message)
				}
			case *ResponseError:
				noPrefix(t, "Body", string(e.Body))
				// Redacted, the body is 987 bytes: all of it is kept, the third key masked whole.
				if want := "[" + redact.Mask + " " + redact.Mask + " " + strings.Repeat("x", 1060-len(leakKey)*2-3) + redact.Mask + "]"; string(e.Body) != want {
					t.Errorf("Body = %q, want %q", e.Body, want)
				}
			default:
				t.Fatalf("%T: %v", err, err)
			}
		})
	}
}
