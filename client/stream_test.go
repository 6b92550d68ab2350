package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/streaming"
)

// TestStreamIdleTimeoutIsOnByDefault: a client built with no options puts
// DefaultStreamIdleTimeout on every stream, and only an explicit
// WithStreamIdleTimeout(0), on the client or the call, turns it off.
func TestStreamIdleTimeoutIsOnByDefault(t *testing.T) {
	if DefaultStreamIdleTimeout < time.Minute {
		t.Errorf("DefaultStreamIdleTimeout = %s: too short for a slow queue or long hidden reasoning", DefaultStreamIdleTimeout)
	}
	srv := newServer(t, okJSON(chatJSON))
	idle := func(c *Client, opts ...Option) time.Duration {
		t.Helper()
		cl, err := c.newCall(context.Background(), opChatStream, opts)
		if err != nil {
			t.Fatal(err)
		}
		return cl.cfg.idleTimeout
	}
	def, _ := newTestClient(t, srv)
	off, _ := newTestClient(t, srv, WithStreamIdleTimeout(0))
	for _, tc := range []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"default", idle(def), DefaultStreamIdleTimeout},
		{"default, call with other options", idle(def, WithMaxRetries(1)), DefaultStreamIdleTimeout},
		{"off on the client", idle(off), 0},
		{"off for one call", idle(def, WithStreamIdleTimeout(0)), 0},
		{"set for one call on a client without", idle(off, WithStreamIdleTimeout(time.Second)), time.Second},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: idle timeout %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestStreamIdleTimeoutFires: a server that sends the headers, or one chunk,
// and then nothing at all fails the stream with streaming.ErrIdleTimeout
// (here with a short timeout; the default is the same mechanism). Retries
// are off: a stream silent from its start would be replayed
// (TestStreamReplayBeforeFirstEvent).
func TestStreamIdleTimeoutFires(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	const chunk = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}` + "\n\n"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		if n == 1 {
			_, _ = io.WriteString(w, chunk)
		}
		w.(http.Flusher).Flush()
		select { // silent until the client gives up (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	})
	c, _ := newTestClient(t, srv, WithStreamIdleTimeout(100*time.Millisecond), WithMaxRetries(0))
	for n, wantChunks := range []int{0, 1} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a failure guard only
		stream, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
		if err != nil {
			t.Fatal(err)
		}
		chunks := 0
		for _, err = range stream.All() {
			if err != nil {
				break
			}
			chunks++
		}
		cancel()
		if chunks != wantChunks || !errors.Is(err, streaming.ErrIdleTimeout) {
			t.Errorf("stream %d: %d chunks, err %v; want %d and streaming.ErrIdleTimeout", n, chunks, err, wantChunks)
		}
	}
}
