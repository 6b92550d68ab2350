package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/internal/redact"
)

// leakKey looks like a real key: "csk-" and 48 characters.
const leakKey = "csk-9f8e7d6c5b4a39281706f5e4d3c2b1a0mnbvcxzlkjhgfdsa"

// TestNoValueTheSDKReturnsHoldsTheKey drives every path by which a server
// that echoes the API key (in headers, the request id, error bodies,
// malformed bodies, a content type, a redirect) or a failing HTTP client
// could put it into a value the SDK hands back, then prints each value
// (the error and every SDK error inside it, or the client and its
// configuration) with every fmt verb and both slog handlers, and checks
// that the key never appears while the text around it stays intact. The
// client's debug log is checked the same way.
func TestNoValueTheSDKReturnsHoldsTheKey(t *testing.T) {
	const bearer, masked = "Bearer " + leakKey, "Bearer " + redact.Mask
	if len(leakKey) != 4+48 {
		t.Fatalf("the key has %d characters", len(leakKey))
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	w := lockedWriter{&logs, &logMu}
	debug := &slog.HandlerOptions{Level: slog.LevelDebug}
	logger := slog.New(teeHandler{slog.NewTextHandler(w, debug), slog.NewJSONHandler(w, debug)})

	var srv *server
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("X-Request-Id", "req-"+auth)
		w.Header().Set("X-Echo-Authorization", auth)
		body := readAll(r)
		switch marker := func(m string) bool { return strings.Contains(body, m) }; {
		case marker("api-json"):
			writeJSON(w, 401, `{"error":{"message":"Incorrect API key provided: `+auth+`","type":"invalid_request_error","param":"`+auth+`","code":"wrong_api_key"}}`)
		case marker("api-text"):
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "upstream rejected "+auth)
		case marker("malformed"):
			writeJSON(w, 200, `{"id":"chatcmpl-1","auth":"`+auth+`","choices": nope}`)
		case marker("across-the-cut"):
			// The key straddles the 1 KiB cut of ResponseError.Body.
			pad := strings.Repeat("x", 1024-10-len(`{"pad":"","a":Bearer `))
			writeJSON(w, 200, `{"pad":"`+pad+`","a":`+auth+`}`)
		case marker("not-json"):
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "proxy: "+auth+" is not allowed here")
		case marker("wrong-type"):
			w.Header().Set("Content-Type", `text/html; echo="`+auth+`"`)
			_, _ = io.WriteString(w, "<p>"+auth+"</p>")
		case marker("in-band"):
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"error":{"message":"key `+auth+` revoked"},"status_code":401}`+"\n\n")
		case marker("redirect"):
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			w.Header().Set("Location", "http://localhost:"+port+"/v1/"+strings.ReplaceAll(auth, " ", "%20"))
			w.WriteHeader(307)
		default:
			writeJSON(w, 200, chatJSON)
		}
	})
	c, _ := newTestClient(t, srv, WithAPIKey(leakKey), WithLogger(logger), WithMaxRetries(0))
	ctx := context.Background()
	chat := func(text string, opts ...Option) error {
		_, err := c.Chat.Completions.New(ctx, ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage(text)}}, opts...)
		return err
	}
	stream := func(text string) error {
		s, err := c.Chat.Completions.NewStreaming(ctx, ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage(text)}})
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
	doer := func(f func(*http.Request) (*http.Response, error)) Option { return WithHTTPClient(doerFunc(f)) }
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	cases := []struct {
		name  string
		value func() any // an error, or a value to print
		keep  []string   // text that must survive, in the %v form
		check func(t *testing.T, v any)
	}{
		{name: "API error with a JSON body", value: func() any { return chat("api-json") },
			keep: []string{"401", "Incorrect API key provided: " + masked, "wrong_api_key", "request id req-" + masked},
			check: func(t *testing.T, v any) {
				e := as[*APIError](t, v)
				for name, got := range map[string]string{
					"X-Request-Id header": e.Header.Get("X-Request-Id")[len("req-"):], "X-Echo-Authorization header": e.Header.Get("X-Echo-Authorization"),
					"Param": e.Param, "RequestID": e.RequestID[len("req-"):],
				} {
					if got != masked {
						t.Errorf("%s = %q, want %q", name, got, masked)
					}
				}
			}},
		{name: "API error with a text body", value: func() any { return chat("api-text") },
			keep: []string{"500", "upstream rejected " + masked}},
		{name: "malformed 200", value: func() any { return chat("malformed") },
			keep: []string{"malformed 200 response", `\"auth\":\"` + masked + `\"`},
			check: func(t *testing.T, v any) {
				if e := as[*ResponseError](t, v); string(e.Body) != `{"id":"chatcmpl-1","auth":"`+masked+`","choices": nope}` {
					t.Errorf("Body = %q", e.Body)
				}
			}},
		{name: "malformed 200 with the key across the 1 KiB cut", value: func() any { return chat("across-the-cut") },
			keep: []string{"malformed 200 response", "xxxxxxxx"},
			check: func(t *testing.T, v any) {
				e := as[*ResponseError](t, v)
				if len(e.Body) != 1024 || bytes.Contains(e.Body, []byte(leakKey[:10])) {
					t.Errorf("Body (%d bytes) ends %q: a prefix of the key survived the cut", len(e.Body), e.Body[max(0, len(e.Body)-24):])
				}
			}},
		{name: "200 that is not JSON", value: func() any { return chat("not-json") },
			keep: []string{"200", "proxy: " + masked + " is not allowed here"}},
		{name: "stream answered with another content type", value: func() any { return stream("wrong-type") },
			keep: []string{"text/html", "<p>" + masked + "</p>"},
			check: func(t *testing.T, v any) {
				if e := as[*ResponseError](t, v); string(e.Body) != "<p>"+masked+"</p>" {
					t.Errorf("Body = %q", e.Body)
				}
			}},
		{name: "error event in a stream", value: func() any { return stream("in-band") },
			keep: []string{"error in stream", "key " + masked + " revoked", "request id req-" + masked},
			check: func(t *testing.T, v any) {
				if e := as[*APIError](t, v); e.Header.Get("X-Echo-Authorization") != masked {
					t.Errorf("X-Echo-Authorization header = %q", e.Header.Get("X-Echo-Authorization"))
				}
			}},
		{name: "refused redirect", value: func() any { return chat("redirect") },
			keep: []string{"307", "http://localhost:" + port + "/v1/Bearer%20" + redact.Mask}},
		{name: "connection error", value: func() any {
			return chat("x", doer(func(r *http.Request) (*http.Response, error) {
				return nil, errors.New("proxy refused Authorization: " + r.Header.Get("Authorization"))
			}))
		}, keep: []string{"connection error after 1 attempt(s)", "proxy refused Authorization: " + masked},
			check: func(t *testing.T, v any) { as[*ConnectionError](t, v) }},
		{name: "timeout", value: func() any {
			return chat("x", WithRequestTimeout(time.Millisecond), doer(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, fmt.Errorf("no answer for %s: %w", r.Header.Get("Authorization"), r.Context().Err())
			}))
		}, keep: []string{"timed out after 1ms", "no answer for " + masked},
			check: func(t *testing.T, v any) { as[*TimeoutError](t, v) }},
		{name: "client", value: func() any { return c }, keep: []string{srv.URL}},
		{name: "configuration", value: func() any { return c.cfg }, keep: []string{srv.URL}},
		{name: "invalid base URL with the key as password", value: func() any {
			_, err := New(WithAPIKey("k"), WithBaseURL("ftp://user:"+leakKey+"@api.example/v1"))
			return err
		}, keep: []string{"invalid base URL", "ftp://xxxxx@api.example/v1"}},
		{name: "unparsable base URL with the key as password", value: func() any {
			_, err := New(WithAPIKey("k"), WithBaseURL("https://user:"+leakKey+"@bad host/v1"))
			return err
		}, keep: []string{"invalid base URL", "https://xxxxx@bad host/v1"}},
		{name: "base URL without a scheme, with the key as password", value: func() any {
			_, err := New(WithAPIKey("k"), WithBaseURL("user:"+leakKey+"@api.example"))
			return err
		}, keep: []string{"invalid base URL", "xxxxx@api.example"}},
		{name: "invalid base URL with the key as user", value: func() any {
			_, err := New(WithAPIKey("k"), WithBaseURL("http://"+leakKey+"@"))
			return err
		}, keep: []string{"invalid base URL", "http://xxxxx@"}},
		{name: "unparsable base URL with the key as user", value: func() any {
			_, err := New(WithAPIKey("k"), WithBaseURL("https://"+leakKey+"@bad host/v1"))
			return err
		}, keep: []string{"invalid base URL", "https://xxxxx@bad host/v1"}},
		{name: "base URL with a bad scheme and the key as user", value: func() any {
			_, err := New(WithAPIKey("k"), WithBaseURL("ftp://"+leakKey+"@api.example"))
			return err
		}, keep: []string{"invalid base URL", "ftp://xxxxx@api.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.value()
			if v == nil {
				t.Fatal("no error")
			}
			values := []any{v}
			if err, ok := v.(error); ok {
				values = append(values, sdkErrors(err)...)
			}
			for _, v := range values {
				for _, out := range printed(v) {
					if strings.Contains(out, leakKey) || strings.Contains(out, hex.EncodeToString([]byte(leakKey))) {
						t.Errorf("the key is in the print of %T:\n%s", v, out)
					}
				}
			}
			s := fmt.Sprintf("%v", v)
			for _, k := range tc.keep {
				if !strings.Contains(s, k) {
					t.Errorf("%%v = %s\nwant it to hold %q", s, k)
				}
			}
			if tc.check != nil {
				tc.check(t, v)
			}
		})
	}

	logMu.Lock()
	defer logMu.Unlock()
	out := logs.String()
	if strings.Contains(out, leakKey) {
		t.Errorf("the key is in the debug log:\n%s", out)
	}
	for _, k := range []string{`request_id="req-` + masked + `"`, `"request_id":"req-` + masked + `"`, "path=/v1/chat/completions"} {
		if !strings.Contains(out, k) {
			t.Errorf("the debug log lacks %s:\n%s", k, out)
		}
	}
}

// as finds a T in err's chain.
func as[T error](t *testing.T, v any) T {
	t.Helper()
	var target T
	if err, _ := v.(error); !errors.As(err, &target) {
		t.Fatalf("%T %v holds no %T", v, v, target)
	}
	return target
}

// sdkErrors returns each error type of the SDK found in err's chain.
func sdkErrors(err error) []any {
	var (
		out  []any
		api  *APIError
		resp *ResponseError
		conn *ConnectionError
		tout *TimeoutError
		redi *RedirectError
	)
	if errors.As(err, &api) {
		out = append(out, api, *api)
	}
	if errors.As(err, &resp) {
		out = append(out, resp, *resp)
	}
	if errors.As(err, &conn) {
		out = append(out, conn, *conn, conn.Err)
	}
	if errors.As(err, &tout) {
		out = append(out, tout, *tout, tout.Err)
	}
	if errors.As(err, &redi) {
		out = append(out, redi, *redi)
	}
	return out
}

// printed formats v with every verb a user might log it with, and with
// slog's text and JSON handlers.
func printed(v any) []string {
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	for _, h := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("value", "v", v)
		out = append(out, b.String())
	}
	return out
}

// teeHandler sends each record to all its handlers.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := make(teeHandler, len(t))
	for i, h := range t {
		n[i] = h.WithAttrs(attrs)
	}
	return n
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	n := make(teeHandler, len(t))
	for i, h := range t {
		n[i] = h.WithGroup(name)
	}
	return n
}
