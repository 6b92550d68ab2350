package streaming

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
)

// TestStreamReopen: a stream with a reopen hook replays a failure that
// comes before its first element, reading the hook's response from its
// start, and never one that comes after, nor a failure no replay cures.
func TestStreamReopen(t *testing.T) {
	const good = "data: " + `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n" +
		"data: " + `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"ab"}}]}` + "\n\ndata: [DONE]\n\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if r.URL.Path == "/good" {
			_, _ = io.WriteString(w, good)
			return
		}
		_, _ = io.WriteString(w, r.URL.Query().Get("body"))
	}))
	t.Cleanup(srv.Close)
	get := func(ctx context.Context, path, body string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			return nil, err
		}
		q := req.URL.Query()
		q.Set("body", body)
		req.URL.RawQuery = q.Encode()
		return srv.Client().Do(req)
	}
	errRefused := errors.New("the hook refuses")
	for _, tc := range []struct {
		name     string
		first    string
		refuse   bool // the hook returns errRefused
		nothing  bool // the hook returns neither a response nor an error
		replayed bool
		want     string // the text delivered
		wantErr  func(error) bool
	}{
		{name: "empty body", first: "", replayed: true, want: "ab"},
		{name: "error event", first: `data: {"error":{"message":"busy"},"status_code":503}` + "\n\n", replayed: true, want: "ab"},
		{name: "event: error", first: "event: error\ndata: {\"message\":\"busy\"}\n\n", replayed: true, want: "ab"},
		{name: "after skipped events", first: "event: ping\ndata: x\n\n: comment\n\n", replayed: true, want: "ab"},
		{name: "event cut off", first: `data: {"id":"c","choi`, replayed: true, want: "ab"},
		{name: "hook refuses", first: "", refuse: true, replayed: true, wantErr: func(err error) bool { return err == errRefused }},
		{name: "hook returns nothing", first: "", nothing: true, replayed: true, wantErr: func(err error) bool { return errors.Is(err, ErrTruncated) }},
		{name: "after an element", first: "data: " + chunkJSON("x") + "\n\n", want: "x", wantErr: func(err error) bool { return errors.Is(err, ErrTruncated) }},
		{name: "bad data", first: "data: [1]\n\n", wantErr: func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := get(context.Background(), "/first", tc.first)
			if err != nil {
				t.Fatal(err)
			}
			var causes []error
			s := NewStream[gen.ChatCompletionChunk](resp, WithReopen(func(ctx context.Context, cause error) (*http.Response, error) {
				causes = append(causes, cause)
				if tc.refuse {
					return nil, errRefused
				}
				if tc.nothing {
					return nil, nil
				}
				return get(ctx, "/good", "")
			}))
			defer s.Close()
			var text strings.Builder
			for s.Next() {
				for _, ch := range s.Current().Choices {
					text.WriteString(ch.Delta.Content)
				}
			}
			if got := text.String(); got != tc.want {
				t.Errorf("text %q, want %q", got, tc.want)
			}
			if tc.replayed != (len(causes) == 1) || len(causes) > 1 {
				t.Errorf("the hook was called with %v; replayed should be %v", causes, tc.replayed)
			}
			if tc.wantErr == nil && s.Err() != nil || tc.wantErr != nil && !tc.wantErr(s.Err()) {
				t.Errorf("err = %v", s.Err())
			}
			if tc.replayed && !tc.refuse && !tc.nothing && s.Response().Request.URL.Path != "/good" {
				t.Errorf("Response() is still the first response")
			}
			if tc.name == "error event" {
				var ae *apierror.Error
				if !errors.As(causes[0], &ae) || ae.StatusCode != 503 {
					t.Errorf("cause %v, want the 503 error event", causes[0])
				}
			}
		})
	}
}

// TestStreamCloseAbortsReopen: Close from another goroutine ends a reopen
// in progress (its context is done) and the blocked Next, without error.
func TestStreamCloseAbortsReopen(t *testing.T) {
	resp := serve(t, context.Background(), sse(""))
	reopening := make(chan struct{})
	s := NewStream[gen.ChatCompletionChunk](resp, WithReopen(func(ctx context.Context, cause error) (*http.Response, error) {
		close(reopening)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	go func() {
		<-reopening
		s.Close()
	}()
	if s.Next() || s.Err() != nil {
		t.Errorf("Next after Close during a reopen: err %v, want none", s.Err())
	}
}
