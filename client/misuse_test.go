package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// noPanic runs f, turning a panic into a test failure so the other cases
// still run.
func noPanic(t *testing.T, f func() error) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("panic: %v", p)
			err = fmt.Errorf("panicked: %v", p)
		}
	}()
	return f()
}

// TestBrokenDoersAreErrors: an HTTP client or a middleware that breaks the
// contract of http.Client.Do, by returning (nil, nil) or a response without
// a Body, fails the call with ErrNilResponse, at once and without retries,
// for ordinary calls, streams and the TCP warm-up alike.
func TestBrokenDoersAreErrors(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	real := &http.Client{}
	nilResponse := func(r *http.Request) (*http.Response, error) { return nil, nil }
	nilBody := func(status int) func(r *http.Request) (*http.Response, error) {
		return func(r *http.Request) (*http.Response, error) {
			resp, err := real.Do(r)
			if err == nil {
				resp.Body.Close()
				resp.Body = nil
				resp.StatusCode = status
			}
			return resp, err
		}
	}
	ctx := context.Background()
	calls := map[string]func(c *Client) error{
		"chat":   func(c *Client) error { _, err := c.Chat.Completions.New(ctx, chatParams()); return err },
		"models": func(c *Client) error { _, err := c.Models.List(ctx); return err },
		"stream": func(c *Client) error {
			s, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
			if s != nil {
				s.Close()
			}
			return err
		},
	}
	for name, opt := range map[string]Option{
		"doer (nil, nil)":              WithHTTPClient(doerFunc(nilResponse)),
		"middleware (nil, nil)":        WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) { return nil, nil }),
		"doer 200 with nil body":       WithHTTPClient(doerFunc(nilBody(200))),
		"doer 500 with nil body":       WithHTTPClient(doerFunc(nilBody(500))),
		"middleware 200 with nil body": WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) { return nilBody(200)(r) }),
		"middleware after a good client": WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
			if resp, err := next(r); err == nil {
				resp.Body.Close()
			}
			return nil, nil
		}),
	} {
		for call, f := range calls {
			t.Run(name+"/"+call, func(t *testing.T) {
				c, delays := newTestClient(t, srv, opt)
				err := noPanic(t, func() error { return f(c) })
				if !errors.Is(err, ErrNilResponse) || !strings.Contains(err.Error(), "/v1/") {
					t.Errorf("err = %v, want ErrNilResponse naming the request", err)
				}
				if len(*delays) != 0 {
					t.Errorf("retried after %v", *delays)
				}
			})
		}
	}
	t.Run("TCP warm-up", func(t *testing.T) {
		// The warm-up runs in its own goroutine: a panic there would end the
		// test binary, so Close waiting for it is the assertion.
		c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithHTTPClient(doerFunc(nilResponse)))
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	})
}

// TestNilHTTPClientIsAnError: WithHTTPClient with a nil *http.Client (or any
// nil Doer) fails New, or the call, with an error that names the option,
// instead of a nil dereference on the first request. So does a nil
// middleware.
func TestNilHTTPClientIsAnError(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	var nilFunc doerFunc
	for name, tc := range map[string]struct {
		opt  Option
		want string
	}{
		"nil":                        {WithHTTPClient(nil), "WithHTTPClient"},
		"(*http.Client)(nil)":        {WithHTTPClient((*http.Client)(nil)), "WithHTTPClient"},
		"nil func Doer":              {WithHTTPClient(nilFunc), "WithHTTPClient"},
		"nil middleware":             {WithMiddleware(nil), "WithMiddleware"},
		"nil among other middleware": {WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) { return next(r) }, nil), "WithMiddleware"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false), tc.opt)
			if err == nil || !strings.HasPrefix(err.Error(), "cerebras: "+tc.want) {
				t.Errorf("New: err = %v, want a client error naming %s", err, tc.want)
			}
			c, _ := newTestClient(t, srv)
			err = noPanic(t, func() error { _, err := c.Chat.Completions.New(context.Background(), chatParams(), tc.opt); return err })
			if err == nil || !strings.HasPrefix(err.Error(), "cerebras: "+tc.want) {
				t.Errorf("call: err = %v, want a client error naming %s", err, tc.want)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
