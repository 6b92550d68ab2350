package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// closeCounter is a response body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closed *atomic.Int32
}

func (b closeCounter) Close() error { b.closed.Add(1); return nil }

// TestResponseWithErrorIsClosed: a Doer or a middleware that returns a
// response together with an error gets the response's body closed on every
// attempt; the error is the outcome. It used to be dropped unclosed, leaking
// its connection.
func TestResponseWithErrorIsClosed(t *testing.T) {
	var closed atomic.Int32
	answer := func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 502, Header: http.Header{}, Body: closeCounter{strings.NewReader("bad gateway"), &closed}, Request: r},
			errors.New("proxy: upstream hung up")
	}
	for name, opt := range map[string]Option{
		"Doer":       WithHTTPClient(doerFunc(answer)),
		"middleware": WithMiddleware(func(r *http.Request, _ Next) (*http.Response, error) { return answer(r) }),
	} {
		t.Run(name, func(t *testing.T) {
			closed.Store(0)
			srv := newServer(t, okJSON(chatJSON))
			c, _ := newTestClient(t, srv, opt)
			_, err := c.Chat.Completions.New(context.Background(), chatParams())
			var ce *ConnectionError
			if !errors.As(err, &ce) || ce.Attempts != 3 || !strings.Contains(err.Error(), "upstream hung up") {
				t.Fatalf("err = %v, want a *ConnectionError after 3 attempts", err)
			}
			if n := closed.Load(); n != 3 {
				t.Errorf("%d of 3 bodies closed", n)
			}
		})
	}
}
