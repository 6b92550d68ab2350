package client

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/streaming"
)

// newReplayFake returns the fake API and a client for it that records
// retry delays instead of sleeping them, and logs into the returned buffer.
func newReplayFake(t *testing.T, opts ...Option) (*cerebrastest.Server, *Client, *[]time.Duration, *syncBuffer) {
	t.Helper()
	logs := new(syncBuffer)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake, c := newFake(t, append([]Option{WithLogger(logger)}, opts...)...)
	return fake, c, recordDelays(c), logs
}

// backoffBlocks makes c's retry delays last until their context is done;
// the channel is closed when the first one starts.
func backoffBlocks(c *Client) <-chan struct{} {
	sleeping := make(chan struct{})
	c.sleep = func(ctx context.Context, d time.Duration) error {
		close(sleeping)
		return sleep(ctx, time.Hour) // only the context ends it
	}
	return sleeping
}

// syncBuffer is a bytes.Buffer for a logger that any goroutine may use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// readChat runs a chat stream to its end: the text of its deltas, how many
// chunks it delivered, and its error.
func readChat(t *testing.T, c *Client, ctx context.Context, opts ...Option) (text string, chunks int, err error) {
	t.Helper()
	stream, err := c.Chat.Completions.NewStreaming(ctx, chatParams(), opts...)
	if err != nil {
		return "", 0, err
	}
	var b strings.Builder
	for chunk, err := range stream.All() {
		if err != nil {
			return b.String(), chunks, err
		}
		chunks++
		for _, ch := range chunk.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String(), chunks, nil
}

// retryCountsSeen lists the X-Stainless-Retry-Count of every request.
func retryCountsSeen(fake *cerebrastest.Server) []string {
	var out []string
	for _, r := range fake.Requests() {
		out = append(out, r.Header.Get("X-Stainless-Retry-Count"))
	}
	return out
}

// TestStreamReplayBeforeFirstEvent: a 200 stream whose first attempt dies
// before its first event is sent again, as the next attempt of the same
// call (X-Stainless-Retry-Count 1, the backoff of a first retry, a
// "retrying" log line); the caller sees the whole answer exactly once.
func TestStreamReplayBeforeFirstEvent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault cerebrastest.Response
		opts  []Option
	}{
		{"connection reset", cerebrastest.Response{Fault: cerebrastest.ResetMidStream, After: 0}, nil},
		// The server stalls until the client leaves: the idle timeout ends
		// the first attempt. The fake sends the second attempt's events
		// without pause; should a loaded machine still keep a read of
		// them waiting 3 s, that attempt is replayed too (checked below).
		{"idle timeout", cerebrastest.Response{Fault: cerebrastest.StallMidStream, After: 0}, []Option{WithStreamIdleTimeout(3 * time.Second)}},
		{"body ends before [DONE]", cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 0}, nil},
		{"in-stream 503", cerebrastest.Response{Fault: cerebrastest.InBandError, After: 0, Status: 503}, nil},
		{"in-stream 429", cerebrastest.Response{Fault: cerebrastest.InBandError, After: 0, Status: 429}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, delays, logs := newReplayFake(t, tc.opts...)
			wantText, wantChunks, err := readChat(t, c, context.Background())
			if err != nil || wantText == "" {
				t.Fatalf("clean stream: %q, %v", wantText, err)
			}
			before := len(fake.Requests())

			fake.Enqueue(tc.fault)
			text, chunks, err := readChat(t, c, context.Background())
			if err != nil {
				t.Fatalf("replayed stream failed: %v", err)
			}
			if text != wantText || chunks != wantChunks {
				t.Errorf("got %q in %d chunks, want %q in %d", text, chunks, wantText, wantChunks)
			}
			want, got := "0,1", strings.Join(retryCountsSeen(fake)[before:], ",")
			if tc.name == "idle timeout" && got == "0,1,2" { // a slow machine: see above
				want = got
			}
			if got != want {
				t.Errorf("retry counts sent %q, want %s", got, want)
			}
			if n := strings.Count(want, ","); len(*delays) != n || (*delays)[0] != 500*time.Millisecond {
				t.Errorf("delays %v, want %d backoffs, the first 500ms without jitter", *delays, n)
			}
			if !strings.Contains(logs.String(), `msg="cerebras: retrying" attempt=1`) {
				t.Errorf("no retry logged:\n%s", logs)
			}
		})
	}
}

// TestStreamReplayTextCompletion: text completion streams replay too.
func TestStreamReplayTextCompletion(t *testing.T) {
	fake, c, _, _ := newReplayFake(t)
	fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 0})
	stream, err := c.Completions.NewStreaming(context.Background(), CompletionNewParams{Model: ModelGemma431B, Prompt: Prompt("Once")})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chunk.Choices {
			text.WriteString(ch.Text)
		}
	}
	if !strings.Contains(text.String(), "Once") || strings.Count(text.String(), "Once") != 1 {
		t.Errorf("text %q", text.String())
	}
	if got := retryCountsSeen(fake); strings.Join(got, ",") != "0,1" {
		t.Errorf("retry counts sent %q, want [0 1]", got)
	}
}

// TestStreamNotReplayed: a stream is not sent again after it delivered an
// event, even one without text (the role chunk), nor for an in-stream
// error the API would answer the same way again.
func TestStreamNotReplayed(t *testing.T) {
	t.Run("reset after the role chunk", func(t *testing.T) {
		fake, c, _, _ := newReplayFake(t)
		fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.ResetMidStream, After: 1})
		stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams())
		if err != nil {
			t.Fatal(err)
		}
		var got []ChatCompletionChunk
		for chunk, err := range stream.All() {
			if err != nil {
				if !errors.Is(err, streaming.ErrTruncated) {
					t.Errorf("err = %v, want streaming.ErrTruncated", err)
				}
				break
			}
			got = append(got, chunk)
		}
		if len(got) != 1 || got[0].Choices[0].Delta.Role != "assistant" || got[0].Choices[0].Delta.Content != "" {
			t.Errorf("delivered %+v, want the role chunk alone", got)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("%d requests, want 1: the role chunk was delivered", n)
		}
	})
	t.Run("in-stream 400", func(t *testing.T) {
		fake, c, _, _ := newReplayFake(t)
		fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.InBandError, After: 0, Status: 400})
		_, chunks, err := readChat(t, c, context.Background())
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !apiErr.InStream || chunks != 0 {
			t.Errorf("%d chunks, err %v; want the in-stream 400", chunks, err)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

// TestStreamReplayBudget: replays take from the call's retry budget; when
// it runs out the error says how many attempts were made and still is
// what the last attempt met. An in-stream error comes back as itself, like
// an error status after its retries.
func TestStreamReplayBudget(t *testing.T) {
	t.Run("truncated twice", func(t *testing.T) {
		fake, c, _, _ := newReplayFake(t, WithMaxRetries(1))
		truncated := cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 0}
		fake.Enqueue(truncated, truncated)
		_, chunks, err := readChat(t, c, context.Background())
		var ce *ConnectionError
		if !errors.As(err, &ce) || ce.Attempts != 2 || !errors.Is(err, streaming.ErrTruncated) || chunks != 0 {
			t.Fatalf("%d chunks, err %v; want a *ConnectionError after 2 attempts, ErrTruncated", chunks, err)
		}
		if !strings.Contains(err.Error(), "after 2 attempt(s)") {
			t.Errorf("err %q does not say how many attempts", err)
		}
		if got := retryCountsSeen(fake); strings.Join(got, ",") != "0,1" {
			t.Errorf("retry counts sent %q, want [0 1]", got)
		}
	})
	t.Run("a 503 before the headers, then a reset", func(t *testing.T) {
		// Both kinds of retry share one budget and one count.
		fake, c, _, _ := newReplayFake(t, WithMaxRetries(1))
		fake.Enqueue(cerebrastest.ErrorResponse(503, "server_error", "", "busy"),
			cerebrastest.Response{Fault: cerebrastest.ResetMidStream, After: 0})
		_, _, err := readChat(t, c, context.Background())
		var ce *ConnectionError
		if !errors.As(err, &ce) || ce.Attempts != 2 {
			t.Fatalf("err %v; want a *ConnectionError after 2 attempts", err)
		}
		if got := retryCountsSeen(fake); strings.Join(got, ",") != "0,1" {
			t.Errorf("retry counts sent %q, want [0 1]", got)
		}
	})
	t.Run("in-stream 503 twice", func(t *testing.T) {
		fake, c, _, _ := newReplayFake(t)
		busy := cerebrastest.Response{Fault: cerebrastest.InBandError, After: 0, Status: 503}
		fake.Enqueue(busy, busy, busy)
		_, _, err := readChat(t, c, context.Background(), WithMaxRetries(2))
		if !errors.Is(err, ErrServiceUnavailable) {
			t.Fatalf("err %v; want the in-stream 503", err)
		}
		if got := retryCountsSeen(fake); strings.Join(got, ",") != "0,1,2" {
			t.Errorf("retry counts sent %q, want [0 1 2]", got)
		}
	})
	t.Run("no retries", func(t *testing.T) {
		fake, c, _, _ := newReplayFake(t, WithMaxRetries(0))
		fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 0})
		_, _, err := readChat(t, c, context.Background())
		var ce *ConnectionError
		if !errors.As(err, &ce) || ce.Attempts != 1 || !errors.Is(err, streaming.ErrTruncated) {
			t.Fatalf("err %v; want a *ConnectionError after 1 attempt, ErrTruncated", err)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

// TestStreamReplayInterrupted: a context cancelled during the backoff
// before a replay ends the stream with the context's error, and a Close
// from another goroutine ends it without one; either way the blocked Next
// returns and the replay is never sent.
func TestStreamReplayInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		close   bool // Close the stream, instead of cancelling the context
		wantErr error
	}{
		{"context cancelled", false, context.Canceled},
		{"stream closed", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, _, _ := newReplayFake(t)
			sleeping := backoffBlocks(c)
			fake.Enqueue(cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 0})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			go func() {
				<-sleeping
				if tc.close {
					stream.Close()
				} else {
					cancel()
				}
			}()
			if stream.Next() {
				t.Fatal("Next delivered an event")
			}
			if err := stream.Err(); tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err %v, want %v", err, tc.wantErr)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: the replay was not sent", n)
			}
		})
	}
}
