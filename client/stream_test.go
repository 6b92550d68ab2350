package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
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

// TestStreamIdleTimeoutIgnoresKeepAlives: a server that stops sending
// events but goes on writing `: keep-alive` comments, every hundredth of
// the idle timeout, fails the stream with streaming.ErrIdleTimeout all the
// same. Before the first event the stream is replayed like any other idle
// stream: the server sees a second attempt, which answers, and the caller
// gets the answer once; after an event it is not, and the caller gets the
// error.
func TestStreamIdleTimeoutIgnoresKeepAlives(t *testing.T) {
	const idle = time.Second // far above a stall of the loaded machine: a timer of bytes would never fire
	const chunk = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}` + "\n\n"
	for _, before := range []int{0, 1} {
		t.Run(fmt.Sprintf("after %d events", before), func(t *testing.T) {
			t.Parallel()
			next, wrote := make(chan struct{}), make(chan struct{})
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(200)
				if n > 0 { // the replay answers at once
					_, _ = io.WriteString(w, chunk+"data: [DONE]\n\n")
					return
				}
				_, _ = io.WriteString(w, strings.Repeat(chunk, before))
				w.(http.Flusher).Flush()
				for { // a keep-alive each time the test asks, until the client leaves
					select {
					case <-next:
					case <-r.Context().Done():
						return
					}
					_, _ = io.WriteString(w, ": keep-alive\n\n")
					w.(http.Flusher).Flush()
					select {
					case wrote <- struct{}{}:
					case <-r.Context().Done():
						return
					}
				}
			})
			c, delays := newTestClient(t, srv, WithStreamIdleTimeout(idle), WithMaxRetries(1))
			ctx, cancel := context.WithTimeout(context.Background(), 10*idle) // a failure guard only
			defer cancel()
			stream, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			var got []string
			for range before {
				if !stream.Next() {
					t.Fatalf("no event: %v", stream.Err())
				}
				got = append(got, stream.Current().Choices[0].Delta.Content)
			}
			// One keep-alive is written before the stream waits for its next
			// event; more follow, every idle/100 once the last was written,
			// until it gives up.
			next <- struct{}{}
			<-wrote
			stop, written := make(chan struct{}), make(chan int, 1)
			go func() {
				n := 1
				defer func() { written <- n }()
				tick := time.NewTicker(idle / 100)
				defer tick.Stop()
				for {
					select {
					case <-tick.C:
					case <-stop:
						return
					}
					select {
					case next <- struct{}{}:
					case <-stop:
						return
					}
					select {
					case <-wrote:
						n++
					case <-stop:
						return
					}
				}
			}()
			for stream.Next() {
				got = append(got, stream.Current().Choices[0].Delta.Content)
			}
			close(stop)
			n := <-written
			err = stream.Err()
			t.Logf("%d keep-alives written; chunks %q; %v", n, got, err)
			requests := len(srv.requests())
			switch before {
			case 0:
				if strings.Join(got, ",") != "Hi" || err != nil || requests != 2 || len(*delays) != 1 {
					t.Errorf("chunks %q, err %v, %d requests, delays %v; want [Hi] from a replay (2 requests, 1 backoff)", got, err, requests, *delays)
				}
			default:
				if strings.Join(got, ",") != "Hi" || !errors.Is(err, streaming.ErrIdleTimeout) || requests != 1 {
					t.Errorf("chunks %q, err %v, %d requests; want [Hi], then streaming.ErrIdleTimeout, and no replay", got, err, requests)
				}
			}
		})
	}
}

// TestStreamMaxEventSizeAtTheTopOfItsRange: WithMaxEventSize accepts
// math.MaxInt, which means no practical limit: the stream reads as usual.
func TestStreamMaxEventSizeAtTheTopOfItsRange(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q}}]}`+"\n\ndata: [DONE]\n\n", long)
	})
	c, _ := newTestClient(t, srv)
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams(), WithMaxEventSize(math.MaxInt))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		got += chunk.Choices[0].Delta.Content
	}
	if got != long {
		t.Errorf("got %d bytes of text, want %d", len(got), len(long))
	}
}
