package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestErrorBodyShapes(t *testing.T) {
	html := "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>" + strings.Repeat("<p>filler</p>", 200) + "</body></html>"
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    APIError
		sentinel                error
		msgContains             string
	}{
		{name: "wrapped", status: 400, body: `{"error":{"message":"Please reduce the length of the messages","type":"invalid_request_error","param":"messages","code":"context_length_exceeded","id":"e1"}}`,
			want: APIError{Message: "Please reduce the length of the messages", Type: "invalid_request_error", Param: "messages", Code: "context_length_exceeded", ID: "e1"}, sentinel: ErrBadRequest},
		{name: "flat", status: 429, body: `{"message":"Requests per minute limit exceeded - too many requests sent.","type":"too_many_requests_error","param":"quota","code":"request_quota_exceeded"}`,
			want: APIError{Message: "Requests per minute limit exceeded - too many requests sent.", Type: "too_many_requests_error", Param: "quota", Code: "request_quota_exceeded"}, sentinel: ErrRateLimit},
		{name: "numeric code", status: 401, body: `{"error":{"message":"Wrong API Key","code":401}}`,
			want: APIError{Message: "Wrong API Key", Code: "401"}, sentinel: ErrAuthentication},
		{name: "error as string", status: 403, body: `{"error":"forbidden model"}`, want: APIError{Message: "forbidden model"}, sentinel: ErrPermissionDenied},
		{name: "fastapi detail list", status: 422, body: `{"detail":[{"loc":["body","messages",0,"role"],"msg":"Input should be 'user'","type":"literal_error"}]}`,
			want: APIError{Message: "body.messages.0.role: Input should be 'user'"}, sentinel: ErrUnprocessableEntity},
		{name: "fastapi detail string", status: 404, body: `{"detail":"Not Found"}`, want: APIError{Message: "Not Found"}, sentinel: ErrNotFound},
		{name: "plain text", status: 402, contentType: "text/plain", body: "payment required\n", want: APIError{Message: "payment required"}, sentinel: ErrPaymentRequired},
		{name: "html truncated", status: 502, contentType: "text/html", body: html, sentinel: ErrInternalServer, msgContains: "502 Bad Gateway"},
		{name: "empty body", status: 409, body: "", want: APIError{Message: "(empty body)"}, sentinel: ErrConflict},
		{name: "503", status: 503, body: `{"error":{"message":"high traffic"}}`, want: APIError{Message: "high traffic"}, sentinel: ErrServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				ct := tc.contentType
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				w.Header().Set("X-Request-Id", "req-e")
				w.Header().Set("X-Ratelimit-Limit-Tokens-Minute", "1000")
				w.Header().Set("X-Ratelimit-Remaining-Tokens-Minute", "0")
				w.Header().Set("X-Ratelimit-Reset-Tokens-Minute", "11.382867097854614")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			c, _ := newTestClient(t, srv, WithMaxRetries(0))
			_, err := c.Chat.Completions.New(context.Background(), chatParams())
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v", err, err)
			}
			if e.StatusCode != tc.status || e.RequestID != "req-e" || string(e.Body) != tc.body || e.Header.Get("X-Request-Id") != "req-e" {
				t.Errorf("status %d id %q body %q", e.StatusCode, e.RequestID, e.Body)
			}
			if tc.msgContains != "" {
				if !strings.Contains(e.Message, tc.msgContains) || len(e.Message) > 520 {
					t.Errorf("message %q (%d bytes)", e.Message, len(e.Message))
				}
			} else if e.Message != tc.want.Message || e.Type != tc.want.Type || e.Code != tc.want.Code || e.Param != tc.want.Param || e.ID != tc.want.ID {
				t.Errorf("got %+v\nwant %+v", *e, tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(err, %v) is false", tc.sentinel)
			}
			tm := e.RateLimit.TokensMinute
			if !tm.Present || tm.Limit != 1000 || tm.Remaining != 0 || tm.Reset != 11382867097*time.Nanosecond || e.RateLimit.RequestsDay.Present {
				t.Errorf("rate limit %+v", e.RateLimit)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, http.StatusText(tc.status)) || !strings.Contains(msg, "req-e") {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}

func TestEnormousErrorBodyIsBounded(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(500)
		chunk := []byte(strings.Repeat("x", 1<<16))
		for range 64 { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	c, _ := newTestClient(t, srv, WithMaxRetries(0))
	_, err := c.Chat.Completions.New(context.Background(), chatParams())
	var e *APIError
	if !errors.As(err, &e) || !e.BodyTruncated || len(e.Body) != 64<<10 || len(e.Message) > 520 {
		t.Fatalf("truncated %v, body %d bytes, message %d bytes: %v", e.BodyTruncated, len(e.Body), len(e.Message), err)
	}
}

func TestAPIKeyIsRedacted(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 401, `{"error":{"message":"Invalid key `+testKey+`","param":"`+testKey+`"}}`)
	})
	c, _ := newTestClient(t, srv)
	_, err := c.Chat.Completions.New(context.Background(), chatParams())
	var e *APIError
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(e.Message, testKey) || strings.Contains(e.Param, testKey) || strings.Contains(string(e.Body), testKey) {
		t.Errorf("the key leaked: %q / %+v", err, e)
	}
	if !strings.Contains(e.Message, "[REDACTED]") {
		t.Errorf("message %q", e.Message)
	}
	// A transport error that quotes the key is redacted too.
	c2, _ := newTestClient(t, srv, WithMaxRetries(0), WithHTTPClient(doerFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("proxy rejected " + r.Header.Get("Authorization"))
	})))
	_, err = c2.Chat.Completions.New(context.Background(), chatParams())
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Errorf("err = %v", err)
	}
}

// TestAPIErrorNamesTheRequest: a 404 from a wrong base URL carries only
// {"detail":"Not Found"}; the error must say where the request went (method
// and path), never with the query string, which may hold a secret.
func TestAPIErrorNamesTheRequest(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/v1/chat/completions" { // the right path: an error inside the stream
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, `data: {"error":{"message":"overloaded"},"status_code":503}`+"\n\n")
			return
		}
		writeJSON(w, 404, `{"detail":"Not Found"}`)
	})
	wrong, _ := newTestClient(t, srv, WithBaseURL(srv.URL+"/wrong"), WithMaxRetries(0), WithQuery("api_key", testKey))
	right, _ := newTestClient(t, srv, WithMaxRetries(0))
	ctx := context.Background()
	streamErr := func(c *Client) error {
		s, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
		if err != nil {
			return err
		}
		for _, err := range s.All() {
			if err != nil {
				return err
			}
		}
		return nil
	}
	cases := []struct {
		name         string
		run          func() error
		method, path string
		inStream     bool
	}{
		{"chat", func() error { _, err := wrong.Chat.Completions.New(ctx, chatParams()); return err }, "POST", "/wrong/v1/chat/completions", false},
		{"chat stream", func() error { return streamErr(wrong) }, "POST", "/wrong/v1/chat/completions", false},
		{"model", func() error { _, err := wrong.Models.Get(ctx, "llama3.1-8b"); return err }, "GET", "/wrong/v1/models/llama3.1-8b", false},
		{"in stream", func() error { return streamErr(right) }, "POST", "/v1/chat/completions", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v", err, err)
			}
			if e.Method != tc.method || e.Path != tc.path || e.InStream != tc.inStream {
				t.Errorf("method %q path %q in stream %v, want %s %s %v", e.Method, e.Path, e.InStream, tc.method, tc.path, tc.inStream)
			}
			msg := err.Error()
			if want := tc.method + " " + tc.path + ": "; !strings.Contains(msg, want) {
				t.Errorf("Error() = %q, want it to name %q", msg, want)
			}
			if strings.Contains(msg, "api_key") || strings.Contains(msg, testKey) || strings.Contains(e.Path, "?") {
				t.Errorf("Error() = %q holds the query string", msg)
			}
		})
	}
}
