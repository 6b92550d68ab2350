package client

import (
	"context"
	"net/http"
	"testing"
)

// tamper is a careless middleware: on a call's first attempt it edits every
// header value in place, appends to every header, and rewrites the URL in
// place, as middleware written against a request it believes it owns would.
func tamper(r *http.Request, next Next) (*http.Response, error) {
	if r.Header.Get("X-Stainless-Retry-Count") != "0" {
		return next(r)
	}
	for k, vs := range r.Header {
		if len(vs) > 0 {
			vs[0] = "tampered"
		}
		r.Header[k] = append(vs, "appended")
	}
	r.URL.Path = "/gateway" + r.URL.Path
	r.URL.RawQuery += "&tampered=1"
	return next(r)
}

// TestRequestsOwnTheirHeaders: a middleware that edits a request's headers
// (or URL) in place changes only that attempt: not the call's retries, not
// later calls of the same client, not other clients. The SDK's header values
// (Authorization, Accept, X-Stainless-*, the caller's WithHeader values) are
// built once and shared, so each request must get its own copies.
func TestRequestsOwnTheirHeaders(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			writeJSON(w, 503, `{}`) // the tampered attempt is retried
			return
		}
		writeJSON(w, 200, chatJSON)
	})
	opts := []Option{WithHeader("X-Custom", "mine"), WithQuery("q", "1"), WithRequestEncoding(RequestEncodingGzip)}
	c, _ := newTestClient(t, srv, opts...)
	other, _ := newTestClient(t, srv, opts...)
	ctx := context.Background()
	check := func(what string, r recorded) {
		t.Helper()
		checkSDKHeaders(t, r.Header, false)
		for k, want := range map[string]string{"X-Custom": "mine", "Content-Type": "application/json", "Content-Encoding": "gzip"} {
			if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s = %q, want %q", what, k, got, want)
			}
		}
		if r.Path != "/v1/chat/completions" || r.RawQuery != "q=1" {
			t.Errorf("%s: sent to %s?%s", what, r.Path, r.RawQuery)
		}
	}

	if _, err := c.Chat.Completions.New(ctx, chatParams(), WithMiddleware(tamper)); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "tampered" || reqs[0].Path != "/gateway/v1/chat/completions" {
		t.Fatalf("the middleware did not run as planned: %d requests, first %s %v", len(reqs), reqs[0].Path, reqs[0].Header)
	}
	retry := reqs[1]
	if got := retry.Header.Get("X-Stainless-Retry-Count"); got != "1" {
		t.Errorf("retry: X-Stainless-Retry-Count = %q", got)
	}
	retry.Header.Set("X-Stainless-Retry-Count", "0") // for check
	check("the retry of the tampered attempt", retry)

	if _, err := c.Chat.Completions.New(ctx, chatParams()); err != nil {
		t.Fatal(err)
	}
	check("the same client's next call", srv.last())
	if _, err := other.Chat.Completions.New(ctx, chatParams()); err != nil {
		t.Fatal(err)
	}
	check("another client", srv.last())
	if _, err := c.Models.List(ctx); err != nil {
		t.Fatal(err)
	}
	if r := srv.last(); r.Header.Get("Authorization") != "Bearer "+testKey || r.Header.Get("Accept") != "application/json" || r.RawQuery != "q=1" {
		t.Errorf("a later GET: %v %q", r.Header, r.RawQuery)
	}
}
