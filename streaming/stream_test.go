package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// serve starts a loopback server whose handler writes the SSE body, and
// returns the response of a GET to it with ctx.
func serve(t *testing.T, ctx context.Context, h http.HandlerFunc) *http.Response {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sse writes body as an event stream, flushing after each event.
func sse(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Request-Id", "req-123")
		w.Header().Set("X-Ratelimit-Remaining-Tokens-Minute", "0")
		for _, part := range strings.SplitAfter(body, "\n\n") {
			_, _ = io.WriteString(w, part)
			w.(http.Flusher).Flush()
		}
	}
}

// stall holds a handler until the test releases it or the client leaves.
func stall(r *http.Request, release <-chan struct{}) {
	select {
	case <-release:
	case <-r.Context().Done():
	}
}

func chunkJSON(content string) string {
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]}`, content)
}

func collect(s *Stream[gen.ChatCompletionChunk]) []string {
	var out []string
	for s.Next() {
		c := s.Current()
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			out = append(out, c.Choices[0].Delta.Content)
		}
	}
	return out
}

func TestStreamSemantics(t *testing.T) {
	a, b := chunkJSON("Hel"), chunkJSON("lo")
	cases := []struct {
		name  string
		body  string
		want  []string
		check func(t *testing.T, err error)
	}{
		{name: "done ends cleanly", body: "data: " + a + "\n\ndata: " + b + "\n\ndata: [DONE]\n\n", want: []string{"Hel", "lo"}},
		{name: "events after done are ignored", body: "data: " + a + "\n\ndata: [DONE]\n\ndata: " + b + "\n\n", want: []string{"Hel"}},
		{name: "error null is not an error", body: "data: " + strings.Replace(a, `{"id"`, `{"error":null,"id"`, 1) + "\n\ndata: [DONE]\n\n", want: []string{"Hel"}},
		{name: "unknown named events are skipped", body: "event: ping\ndata: {}\n\ndata: " + a + "\n\nevent: metrics\ndata: x\n\ndata: [DONE]\n\n", want: []string{"Hel"}},
		{name: "comments and empty data are skipped", body: ": hi\n\ndata:\n\ndata: " + a + "\n\ndata: [DONE]\n\n", want: []string{"Hel"}},
		{name: "last event without blank line", body: "data: " + a + "\n\ndata: [DONE]", want: []string{"Hel"}},
		{
			name: "no done is truncation", body: "data: " + a + "\n\ndata: " + b + "\n\n", want: []string{"Hel", "lo"},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("err = %v, want ErrTruncated wrapping io.ErrUnexpectedEOF", err)
				}
			},
		},
		{
			name: "in-band error object with status", want: []string{"Hel"},
			body: "data: " + a + "\n\n" + `data: {"error":{"message":"Tokens per minute limit exceeded","type":"too_many_requests_error","param":"quota","code":"token_quota_exceeded"},"status_code":429}` + "\n\n",
			check: func(t *testing.T, err error) {
				var apiErr *apierror.Error
				if !errors.As(err, &apiErr) {
					t.Fatalf("err = %T %v, want *apierror.Error", err, err)
				}
				if apiErr.StatusCode != 429 || apiErr.Type != "too_many_requests_error" || apiErr.Code != "token_quota_exceeded" ||
					apiErr.Message != "Tokens per minute limit exceeded" || !apiErr.InStream || apiErr.RequestID != "req-123" ||
					!apiErr.RateLimit.TokensMinute.Present || !errors.Is(err, apierror.ErrRateLimit) {
					t.Errorf("error = %+v", apiErr)
				}
			},
		},
		{
			name: "in-band error without status has none", want: nil,
			body: `data: {"error":{"message":"boom"}}` + "\n\n",
			check: func(t *testing.T, err error) {
				var apiErr *apierror.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || !apiErr.InStream || apiErr.Message != "boom" {
					t.Errorf("err = %#v", err)
				}
				if msg := err.Error(); !strings.Contains(msg, "error in stream: boom") || strings.Contains(msg, "200") {
					t.Errorf("Error() = %q, want an in-stream error without a status", msg)
				}
				for _, sentinel := range []error{apierror.ErrBadRequest, apierror.ErrRateLimit, apierror.ErrInternalServer, apierror.ErrServiceUnavailable} {
					if errors.Is(err, sentinel) {
						t.Errorf("errors.Is(err, %v) = true for an error that gave no status", sentinel)
					}
				}
			},
		},
		{
			name: "event error with object", want: []string{"Hel"},
			body: "data: " + a + "\n\nevent: error\n" + `data: {"error":{"message":"overloaded","type":"server_error"},"status_code":503}` + "\n\n",
			check: func(t *testing.T, err error) {
				var apiErr *apierror.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Message != "overloaded" || !errors.Is(err, apierror.ErrServiceUnavailable) {
					t.Errorf("err = %v", err)
				}
			},
		},
		{
			name: "event error with text", body: "event: error\ndata: upstream went away\n\n",
			check: func(t *testing.T, err error) {
				var apiErr *apierror.Error
				if !errors.As(err, &apiErr) || apiErr.Message != "upstream went away" {
					t.Errorf("err = %v", err)
				}
			},
		},
		{
			name: "invalid JSON names the bytes", want: []string{"Hel"},
			body: "data: " + a + "\n\ndata: {\"id\": nope}\n\n",
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), `{\"id\": nope}`) {
					t.Errorf("err = %v, want a DecodeError quoting the data", err)
				}
			},
		},
		{
			name: "wrong type is an error", body: "data: {\"id\": 5}\n\n",
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Errorf("err = %v, want a DecodeError", err)
				}
			},
		},
		{
			name: "non-object data is an error", body: "data: [1,2]\n\n",
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Errorf("err = %v, want a DecodeError", err)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := serve(t, context.Background(), sse(c.body))
			s := NewStream[gen.ChatCompletionChunk](resp)
			got := collect(s)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("chunks = %q, want %q", got, c.want)
			}
			err := s.Err()
			if c.check == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if c.check != nil {
				if err == nil {
					t.Fatal("want an error, got nil")
				}
				c.check(t, err)
			}
			if s.Next() {
				t.Error("Next after the end returned true")
			}
		})
	}
}

// TestStreamLeadingBOM: a stream that starts with a UTF-8 byte order mark
// (some proxies add one) loses nothing.
func TestStreamLeadingBOM(t *testing.T) {
	resp := serve(t, context.Background(), sse("\xEF\xBB\xBFdata: "+chunkJSON("first")+"\n\ndata: "+chunkJSON("second")+"\n\ndata: [DONE]\n\n"))
	s := NewStream[gen.ChatCompletionChunk](resp)
	if got := collect(s); strings.Join(got, ",") != "first,second" || s.Err() != nil {
		t.Errorf("got %q, err %v; want [first second] and a clean end", got, s.Err())
	}
}

func TestStreamDroppedConnection(t *testing.T) {
	resp := serve(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+chunkJSON("a")+"\n\ndata: "+chunkJSON("b")+"\n\ndata: {\"id\":\"cut")
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	s := NewStream[gen.ChatCompletionChunk](resp)
	got := collect(s)
	if strings.Join(got, "") != "ab" {
		t.Errorf("complete events before the drop = %q", got)
	}
	if err := s.Err(); !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v, want ErrTruncated", err)
	}
}

// TestStreamCutMidEvent: a body that ends cleanly (a proxy that closes the
// chunked body properly, a Content-Length) in the middle of an event's JSON
// is a truncation, not bad data; the partial data rides along for diagnosis.
func TestStreamCutMidEvent(t *testing.T) {
	resp := serve(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+chunkJSON("a")+"\n\ndata: {\"id\":\"cut")
	})
	s := NewStream[gen.ChatCompletionChunk](resp)
	if got := collect(s); strings.Join(got, "") != "a" {
		t.Errorf("complete events before the cut = %q", got)
	}
	err := s.Err()
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	var de *DecodeError
	if !errors.As(err, &de) || string(de.Data) != `{"id":"cut` {
		t.Errorf("err = %v, want it to carry the partial data", err)
	}
}

// TestStreamCutMidErrorEvent: an error event cut off by the end of the
// stream is both the error and a truncation; a complete one is the error.
func TestStreamCutMidErrorEvent(t *testing.T) {
	for _, c := range []struct {
		body      string
		truncated bool
	}{
		{"event: error\ndata: {\"error\":{\"message\":\"over", true},
		{"event: error\ndata: upstream we", true},
		{"event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}", false},
		{"event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n", false},
	} {
		s := NewStream[gen.ChatCompletionChunk](&http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(c.body))})
		for s.Next() {
		}
		var apiErr *apierror.Error
		if !errors.As(s.Err(), &apiErr) || errors.Is(s.Err(), ErrTruncated) != c.truncated {
			t.Errorf("%q: err = %v, want an APIError, truncated %v", c.body, s.Err(), c.truncated)
		}
	}
}

// TestStreamTruncatedAnywhere cuts a complete stream after every byte
// before its [DONE]: each cut delivers the chunks it holds in full and
// ends with ErrTruncated, whatever byte it stopped on.
func TestStreamTruncatedAnywhere(t *testing.T) {
	full := "data: " + chunkJSON("a") + "\n\n: keep-alive\r\n\r\nevent: ping\ndata: {}\n\ndata: {\"id\":\"x\",\"created\":12345,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\\u00e9\"}}]}\r\n\r\ndata: [DONE]\n\n"
	done := strings.Index(full, "[DONE]") + len("[DONE]")
	for cut := range done {
		s := NewStream[gen.ChatCompletionChunk](&http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(full[:cut]))})
		got := strings.Join(collect(s), "")
		if !strings.HasPrefix("abé", got) {
			t.Errorf("cut at %d (%q): chunks %q", cut, full[max(0, cut-10):cut], got)
		}
		if err := s.Err(); !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d (%q): err = %v, want ErrTruncated", cut, full[max(0, cut-10):cut], err)
		}
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	resp := serve(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+chunkJSON("a")+"\n\n")
		w.(http.Flusher).Flush()
		stall(r, release)
	})
	s := NewStream[gen.ChatCompletionChunk](resp, WithIdleTimeout(time.Second))
	start := time.Now()
	got := collect(s)
	if len(got) != 1 {
		t.Errorf("got %q", got)
	}
	var timeout interface{ Timeout() bool }
	if err := s.Err(); !errors.Is(err, ErrIdleTimeout) || !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("err = %v, want ErrIdleTimeout, a Timeout() error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the stall was detected after %s", d)
	}
}

// TestStreamIdleTimeoutIgnoresTheConsumer: the idle timeout times the
// server, not the caller. The server sends everything promptly; a consumer
// that pauses longer than the timeout, before its first Next and between
// chunks, still gets every chunk and a clean end. The chunks are larger
// than the decoder's first buffer, so that it reads again after each pause.
func TestStreamIdleTimeoutIgnoresTheConsumer(t *testing.T) {
	const idle = 500 * time.Millisecond // generous: a read of bytes already sent must beat it on a loaded machine
	text := map[string]string{"a": strings.Repeat("a", 30<<10), "b": strings.Repeat("b", 30<<10), "c": strings.Repeat("c", 30<<10)}
	for _, pauseFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("pause before the first Next %v", pauseFirst), func(t *testing.T) {
			t.Parallel()
			sent := make(chan struct{})
			body := "data: " + chunkJSON(text["a"]) + "\n\ndata: " + chunkJSON(text["b"]) + "\n\ndata: " + chunkJSON(text["c"]) + "\n\ndata: [DONE]\n\n"
			resp := serve(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
				defer close(sent)
				sse(body)(w, r)
			})
			s := NewStream[gen.ChatCompletionChunk](resp, WithIdleTimeout(idle))
			defer s.Close()
			// Everything is on the wire before the consumer pauses, so no
			// read below waits on the server.
			<-sent
			pause := func() { time.Sleep(idle + 350*time.Millisecond) }
			if pauseFirst {
				pause()
			}
			var got []string
			for s.Next() {
				got = append(got, (s.Current().Choices[0].Delta.Content)[:1])
				pause()
			}
			if err := s.Err(); err != nil || strings.Join(got, "") != "abc" {
				t.Errorf("got %q of 3 chunks, then %v; want all 3 and a clean end", got, err)
			}
		})
	}
}

func TestStreamCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	resp := serve(t, ctx, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+chunkJSON("a")+"\n\n")
		w.(http.Flusher).Flush()
		stall(r, release)
	})
	s := NewStream[gen.ChatCompletionChunk](resp)
	if !s.Next() {
		t.Fatal(s.Err())
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	if s.Next() {
		t.Fatal("Next returned true after cancellation")
	}
	if err := s.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestStreamCloseAbortsBlockedNext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	resp := serve(t, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		stall(r, release)
	})
	s := NewStream[gen.ChatCompletionChunk](resp)
	time.AfterFunc(50*time.Millisecond, func() { _ = s.Close() })
	if s.Next() {
		t.Fatal("Next returned true")
	}
	if err := s.Err(); err != nil {
		t.Errorf("err = %v after the caller's Close, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// closeCounter counts Close calls on a body.
type closeCounter struct {
	io.ReadCloser
	n *atomic.Int32
}

func (c closeCounter) Close() error { c.n.Add(1); return c.ReadCloser.Close() }

func TestStreamAll(t *testing.T) {
	body := "data: " + chunkJSON("a") + "\n\ndata: " + chunkJSON("b") + "\n\ndata: " + chunkJSON("c") + "\n\ndata: [DONE]\n\n"
	t.Run("break closes the body", func(t *testing.T) {
		resp := serve(t, context.Background(), sse(body))
		var closes atomic.Int32
		resp.Body = closeCounter{resp.Body, &closes}
		s := NewStream[gen.ChatCompletionChunk](resp)
		n := 0
		for _, err := range s.All() {
			if err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 || closes.Load() != 1 {
			t.Errorf("n=%d closes=%d, want 1 and 1", n, closes.Load())
		}
	})
	t.Run("the error comes last", func(t *testing.T) {
		resp := serve(t, context.Background(), sse("data: "+chunkJSON("a")+"\n\n"))
		var chunks int
		var last error
		for c, err := range NewStream[gen.ChatCompletionChunk](resp).All() {
			if err != nil {
				last = err
				if c.ID != "" {
					t.Error("the error came with a non-zero chunk")
				}
				continue
			}
			chunks++
		}
		if chunks != 1 || !errors.Is(last, ErrTruncated) {
			t.Errorf("chunks=%d err=%v", chunks, last)
		}
	})
}

// TestStreamOtherTypes: any JSON type streams through the generic decoder,
// with the same in-band error and truncation rules.
func TestStreamOtherTypes(t *testing.T) {
	body := `data: {"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"Once"}]}` + "\n\n" +
		`data: {"error":{"message":"late failure","type":"server_error"},"status_code":500}` + "\n\n"
	resp := serve(t, context.Background(), sse(body))
	s := NewStream[gen.Completion](resp)
	if !s.Next() || s.Current().Choices[0].Text != "Once" {
		t.Fatalf("first completion: %v", s.Err())
	}
	if s.Next() {
		t.Fatal("want the in-band error")
	}
	var apiErr *apierror.Error
	if !errors.As(s.Err(), &apiErr) || apiErr.StatusCode != 500 || !errors.Is(s.Err(), apierror.ErrInternalServer) {
		t.Errorf("err = %v", s.Err())
	}
	if s.Response().Header.Get("X-Request-Id") != "req-123" {
		t.Error("the stream does not expose the response headers")
	}
}

func TestStreamFixtures(t *testing.T) {
	for _, f := range []struct {
		file    string
		content string
		wantErr bool
	}{
		{"hello.sse", "Hello! How can I assist you today?", false},
		{"tool-call.sse", "", false},
		{"inband-error.sse", "Hel", true},
	} {
		t.Run(f.file, func(t *testing.T) {
			b, err := os.ReadFile("../testdata/ChatCompletionChunk/" + f.file)
			if err != nil {
				t.Fatal(err)
			}
			resp := serve(t, context.Background(), sse(string(b)))
			s := NewStream[gen.ChatCompletionChunk](resp)
			got := strings.Join(collect(s), "")
			if got != f.content {
				t.Errorf("content = %q, want %q", got, f.content)
			}
			if (s.Err() != nil) != f.wantErr {
				t.Errorf("err = %v, want error %v", s.Err(), f.wantErr)
			}
		})
	}
}

// TestStreamCancellationSkipsBufferedEvents: events already read into the
// buffer are not delivered once the context is cancelled.
func TestStreamCancellationSkipsBufferedEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	resp := serve(t, ctx, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 10 {
			_, _ = io.WriteString(w, "data: "+chunkJSON(fmt.Sprint(i))+"\n\n")
		}
		w.(http.Flusher).Flush()
		stall(r, release)
	})
	s := NewStream[gen.ChatCompletionChunk](resp)
	if !s.Next() {
		t.Fatal(s.Err())
	}
	cancel()
	if s.Next() {
		t.Fatal("a buffered event was delivered after cancellation")
	}
	if !errors.Is(s.Err(), context.Canceled) {
		t.Errorf("err = %v", s.Err())
	}
}

// TestDecodeErrorNeverHoldsPartOfTheKey: DecodeError quotes at most 256
// bytes of bad data; a key the server echoed across that limit must not
// leave its first half behind.
func TestDecodeErrorNeverHoldsPartOfTheKey(t *testing.T) {
	const key = "csk-abc123def456ghi789jkl012mno345pqr678stu901vwx234"
	data := `{"pad":"` + strings.Repeat("x", 230) + `","key":"` + key + `", nope}`
	resp := serve(t, context.Background(), sse("data: "+data+"\n\n"))
	s := NewStream[gen.ChatCompletionChunk](resp, WithRedaction(key))
	for s.Next() {
	}
	var de *DecodeError
	if !errors.As(s.Err(), &de) {
		t.Fatalf("err = %v, want a DecodeError", s.Err())
	}
	if len(de.Data) > 256 || strings.Contains(string(de.Data), key[:8]) {
		t.Errorf("data %q (%d bytes) holds part of the key", de.Data, len(de.Data))
	}
	if !strings.HasPrefix(string(de.Data), `{"pad":"xxx`) {
		t.Errorf("data %q lost its start", de.Data)
	}
}

// FuzzStreamTruncation: a stream of two chunks with any content, cut after
// any byte, delivers the chunks it holds in full, then ends with
// ErrTruncated if the cut came before [DONE] and cleanly otherwise.
func FuzzStreamTruncation(f *testing.F) {
	f.Add("hello", uint(40), false)
	f.Add("h\u00e9\n\"x\"", uint(1000), true)
	f.Add("", uint(0), false)
	f.Fuzz(func(t *testing.T, content string, cut uint, crlf bool) {
		quoted, _ := json.Marshal(content)
		_ = json.Unmarshal(quoted, &content) // what the server meant: invalid UTF-8 is U+FFFD
		sep := "\n\n"
		if crlf {
			sep = "\r\n\r\n"
		}
		event := `data: {"id":"c","created":1,"choices":[{"index":0,"delta":{"content":` + string(quoted) + `}}]}` + sep
		full := event + ": ping" + sep + event + "data: [DONE]" + sep
		done := strings.Index(full, "[DONE]") + len("[DONE]")
		n := int(cut % uint(len(full)+1))
		s := NewStream[gen.ChatCompletionChunk](&http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(full[:n]))})
		chunks := 0
		for s.Next() {
			if got := s.Current().Choices[0].Delta.Content; got != content {
				t.Fatalf("cut at %d: chunk content %q, want %q", n, got, content)
			}
			chunks++
		}
		err := s.Err()
		switch {
		case n >= done && (err != nil || chunks != 2):
			t.Fatalf("cut at %d, after [DONE]: %d chunks, err %v", n, chunks, err)
		case n < done && !errors.Is(err, ErrTruncated):
			t.Fatalf("cut at %d (%s): err = %v, want ErrTruncated", n, strconv.Quote(full[:n]), err)
		}
	})
}

// TestDecodeErrorNamesTheTypeNotTheValue: a value of the wrong type is
// reported by field and JSON type. Quoting the value would leak the start
// of a key the server echoed there, which no redaction of the whole key
// can catch.
func TestDecodeErrorNamesTheTypeNotTheValue(t *testing.T) {
	const key = "csk-abc123def456ghi789jkl012mno345pqr678stu901vwx234"
	for _, data := range []string{
		`{"created":"` + key + `"}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":"` + key + `"}]}}]}`,
		`{"choices":[{"index":0,"finish_reason":{"x":"` + key + `"}}]}`,
	} {
		resp := serve(t, context.Background(), sse("data: "+data+"\n\n"))
		s := NewStream[gen.ChatCompletionChunk](resp, WithRedaction(key))
		for s.Next() {
		}
		var de *DecodeError
		var te *json.UnmarshalTypeError
		if !errors.As(s.Err(), &de) || !errors.As(s.Err(), &te) {
			t.Fatalf("err = %v, want a DecodeError wrapping a *json.UnmarshalTypeError", s.Err())
		}
		if msg := s.Err().Error(); strings.Contains(msg, key[:8]) || strings.Contains(te.Error(), key[:4]) {
			t.Errorf("error %q holds part of the key", msg)
		}
	}
	// The message names the field and the JSON type, as encoding/json's does.
	_, err := newChunkDecoder().decode([]byte(`{"created":"`+key+`"}`), new(gen.ChatCompletionChunk))
	if want := "json: cannot unmarshal string into Go struct field ChatCompletionChunk.created of type int64"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestStreamFormatHidesTheKey: printing a stream, with any verb, never
// prints the API key it redacts.
func TestStreamFormatHidesTheKey(t *testing.T) {
	const key = "csk-abc123def456ghi789jkl012mno345pqr678stu901vwx234"
	resp := serve(t, context.Background(), sse("data: "+chunkJSON("a")+"\n\ndata: [DONE]\n\n"))
	s := NewStream[gen.ChatCompletionChunk](resp, WithRedaction(key))
	defer s.Close()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		args := []any{s}
		if strings.Count(verb, "%") == 2 {
			args = append(args, s)
		}
		got := fmt.Sprintf(verb, args...)
		if strings.Contains(got, key[:8]) || strings.Contains(got, fmt.Sprintf("%x", key[:8])) {
			t.Errorf("Sprintf(%q) = %q holds the key", verb, got)
		}
	}
	if got, want := fmt.Sprint(s), "streaming.Stream[gen.ChatCompletionChunk]{status 200, request id req-123, open, key [REDACTED]}"; got != want {
		t.Errorf("Sprint = %q, want %q", got, want)
	}
	for s.Next() {
	}
	if got, want := fmt.Sprintf("%#v", s), "&streaming.Stream[gen.ChatCompletionChunk]{status 200, request id req-123, done, key [REDACTED]}"; got != want {
		t.Errorf("%%#v = %q, want %q", got, want)
	}
	var none *Stream[gen.ChatCompletionChunk]
	if got := fmt.Sprint(none); got != "<nil>" {
		t.Errorf("Sprint(nil) = %q", got)
	}
}

// TestFinishedStreamIsNotRetained: once a stream has ended and the caller
// drops it, its buffers (twice its largest event) are garbage at once,
// not held by the timer that bounds the read after [DONE].
func TestFinishedStreamIsNotRetained(t *testing.T) {
	const size = 4 << 20
	body := "data: " + chunkJSON(strings.Repeat("x", size)) + "\n\ndata: [DONE]\n\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var kept []gen.ChatCompletionChunk
	func() {
		s := NewStream[gen.ChatCompletionChunk](&http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body))})
		for s.Next() {
			kept = append(kept, s.Current())
		}
		if s.Err() != nil || len(kept) != 1 {
			t.Fatalf("%d chunks, err %v", len(kept), s.Err())
		}
	}()
	runtime.GC()
	runtime.ReadMemStats(&after)
	// What the caller kept: the one chunk, its text.
	if live := int64(after.HeapAlloc) - int64(before.HeapAlloc); live > size+size/2 {
		t.Errorf("%d bytes live after a stream of one %d-byte chunk ended and was dropped", live, size)
	}
	runtime.KeepAlive(kept)
}
