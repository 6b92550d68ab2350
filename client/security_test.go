package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/streaming"
)

// TestKeyNeverLeaks runs failures whose causes quote the API key and checks
// that no error string and no debug log line holds it.
func TestKeyNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	echo := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		auth := r.Header.Get("Authorization")
		switch {
		case r.URL.Path == "/v1/models":
			writeJSON(w, 401, `{"error":{"message":"bad key `+auth+`","param":"`+auth+`"}}`)
		case strings.Contains(readAll(r), `"stream":true`):
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"error":{"message":"your key `+auth+` is revoked"},"status_code":401}`+"\n\n")
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "upstream rejected "+auth)
		}
	})
	c, _ := newTestClient(t, echo, WithLogger(logger), WithMaxRetries(1))
	var errs []error
	_, err := c.Models.List(context.Background())
	errs = append(errs, err)
	_, err = c.Chat.Completions.New(context.Background(), chatParams())
	errs = append(errs, err)
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range stream.All() {
		errs = append(errs, err)
	}
	// Transport failures: a refused connection, and a doer whose error quotes the request.
	refused, _ := newTestClient(t, echo, WithBaseURL("http://127.0.0.1:1"), WithMaxRetries(0), WithLogger(logger))
	_, err = refused.Chat.Completions.New(context.Background(), chatParams())
	errs = append(errs, err)
	quoting, _ := newTestClient(t, echo, WithMaxRetries(0), WithLogger(logger), WithHTTPClient(doerFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("proxy said no to " + r.Header.Get("Authorization"))
	})))
	_, err = quoting.Chat.Completions.New(context.Background(), chatParams())
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("case %d: the key is in the error: %q", i, err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && (bytes.Contains(apiErr.Body, []byte(testKey)) || strings.Contains(apiErr.Message, testKey)) {
			t.Errorf("case %d: the key is in the APIError fields", i)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if logs.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("the key is in the logs:\n%s", logs.String())
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// countingDoer counts response bodies handed out and closed.
type countingDoer struct {
	inner          *http.Client
	opened, closed atomic.Int64
}

type countedBody struct {
	io.ReadCloser
	d    *countingDoer
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.d.closed.Add(1) })
	return b.ReadCloser.Close()
}

func (d *countingDoer) Do(r *http.Request) (*http.Response, error) {
	resp, err := d.inner.Do(r)
	if err == nil {
		d.opened.Add(1)
		resp.Body = &countedBody{ReadCloser: resp.Body, d: d}
	}
	return resp, err
}

// TestResponseBodiesAreAlwaysClosed counts bodies across successes,
// errors, retries and streams ended every way.
func TestResponseBodiesAreAlwaysClosed(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body := readAll(r)
		switch {
		case strings.Contains(body, "retry-me") && n%2 == 0:
			w.Header().Set("Retry-After-Ms", "1")
			writeJSON(w, 503, `{}`)
		case strings.Contains(body, "fail"):
			writeJSON(w, 400, `{"error":{"message":"no"}}`)
		case strings.Contains(body, `"stream":true`):
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; i < 5; i++ {
				_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}`+"\n\n")
			}
			if !strings.Contains(body, "truncate") {
				_, _ = io.WriteString(w, "data: [DONE]\n\n")
			}
		default:
			writeJSON(w, 200, chatJSON)
		}
	})
	d := &countingDoer{inner: &http.Client{}}
	c, _ := newTestClient(t, srv, WithHTTPClient(d))
	ctx := context.Background()
	for _, text := range []string{"ok", "fail", "retry-me"} {
		_, _ = c.Chat.Completions.New(ctx, ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage(text)}})
	}
	streamWith := func(text string) ChatCompletionNewParams {
		return ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage(text)}}
	}
	// Run to the end, break early, close without reading, truncated, and an error status.
	if s, err := c.Chat.Completions.NewStreaming(ctx, streamWith("all")); err == nil {
		for range s.All() {
		}
	}
	if s, err := c.Chat.Completions.NewStreaming(ctx, streamWith("break")); err == nil {
		for range s.All() {
			break
		}
	}
	if s, err := c.Chat.Completions.NewStreaming(ctx, streamWith("close")); err == nil {
		_ = s.Close()
	}
	if s, err := c.Chat.Completions.NewStreaming(ctx, streamWith("truncate")); err == nil {
		for s.Next() {
		}
	}
	_, _ = c.Chat.Completions.NewStreaming(ctx, streamWith("fail"))
	deadline := time.Now().Add(time.Minute) // bodies close as their goroutines finish
	for d.closed.Load() != d.opened.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d.opened.Load() < 9 || d.closed.Load() != d.opened.Load() {
		t.Errorf("%d bodies opened, %d closed", d.opened.Load(), d.closed.Load())
	}
}

// TestRedactionOnlyRemovesTheKey: redaction must remove the API key however
// the server echoes it, and must never alter text that merely contains the
// key's letters: with the key "test", "X-Cerebrastest-Fault" stays intact; with
// the key "a", so do "injected_fault" and the request id. {K} marks where the
// server echoes the key; the error must hold [REDACTED] there and nowhere else.
func TestRedactionOnlyRemovesTheKey(t *testing.T) {
	const (
		requestID = "req-abc-test-0123"
		errorJSON = `{"error":{"message":"Invalid API key: Bearer {K}. Unknown header X-Cerebrastest-Fault.","type":"invalid_request_error","param":"{K}","code":"injected_fault"},"echo":{"key":"{K}"}`
		badData   = `{"id": nope, "auth": "{K}", "h": "X-Cerebrastest-Fault"}`
		doerError = `proxy refused "Authorization: Bearer {K}" (X-Cerebrastest-Fault, injected_fault)`
	)
	keys := []string{"a", "test", "csk-abc123def456ghi789jkl012mno345pqr678stu901vwx234"}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			echo := func(s string) string { return strings.ReplaceAll(s, "{K}", key) }
			want := func(s string) string { return strings.ReplaceAll(s, "{K}", "[REDACTED]") }
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Request-Id", requestID)
				body := readAll(r)
				switch {
				case !strings.Contains(body, `"stream":true`):
					writeJSON(w, 401, echo(errorJSON+"}"))
				case strings.Contains(body, "in-band"):
					w.Header().Set("Content-Type", "text/event-stream")
					_, _ = io.WriteString(w, "data: "+echo(errorJSON+`,"status_code":401}`)+"\n\n")
				default:
					w.Header().Set("Content-Type", "text/event-stream")
					_, _ = io.WriteString(w, "data: "+echo(badData)+"\n\n")
				}
			})
			c, _ := newTestClient(t, srv, WithAPIKey(key), WithMaxRetries(0))
			ctx := context.Background()
			checkAPIError := func(err error, body string) {
				t.Helper()
				var e *APIError
				if !errors.As(err, &e) {
					t.Fatalf("err = %T %v", err, err)
				}
				got := []string{e.Message, e.Type, e.Param, e.Code, e.RequestID, string(e.Body)}
				exp := []string{want("Invalid API key: Bearer {K}. Unknown header X-Cerebrastest-Fault."), "invalid_request_error", "[REDACTED]", "injected_fault", requestID, want(body)}
				for i := range got {
					if got[i] != exp[i] {
						t.Errorf("field %d = %q, want %q", i, got[i], exp[i])
					}
				}
			}
			_, err := c.Chat.Completions.New(ctx, chatParams())
			checkAPIError(err, errorJSON+"}")

			streamErr := func(text string) error {
				t.Helper()
				s, err := c.Chat.Completions.NewStreaming(ctx, ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage(text)}})
				if err != nil {
					t.Fatal(err)
				}
				for _, err := range s.All() {
					if err != nil {
						return err
					}
				}
				t.Fatal("the stream ended without an error")
				return nil
			}
			checkAPIError(streamErr("in-band"), errorJSON+`,"status_code":401}`)
			var de *streaming.DecodeError
			if err := streamErr("bad data"); !errors.As(err, &de) || string(de.Data) != want(badData) {
				t.Errorf("decode error data %q, want %q (%v)", de.Data, want(badData), err)
			}

			failing, _ := newTestClient(t, srv, WithAPIKey(key), WithMaxRetries(0), WithHTTPClient(doerFunc(func(r *http.Request) (*http.Response, error) {
				return nil, errors.New(echo(doerError))
			})))
			_, err = failing.Chat.Completions.New(ctx, chatParams())
			if err == nil || !strings.HasSuffix(err.Error(), want(doerError)) {
				t.Errorf("transport error %q, want it to end with %q", err, want(doerError))
			}
		})
	}
}
