package client

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// countingConn counts the writes to a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestRequestIsOneWrite: a chat request, headers and body, goes out in one
// write to the connection, as from http.NewRequest with a *bytes.Reader.
// net/http flushes the headers in a write of their own for a body it does
// not recognise as in memory, costing the server a second read.
func TestRequestIsOneWrite(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	var writes atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{conn, &writes}, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, _ := newTestClient(t, srv, WithHTTPClient(&http.Client{Transport: tr}))
	for name, opts := range map[string][]Option{"no options": nil, "gzip": {WithRequestEncoding(RequestEncodingGzip)}, "a header parameter": {WithCFRay("ray-1")}} {
		writes.Store(0)
		if _, err := c.Chat.Completions.New(context.Background(), chatParams(), opts...); err != nil {
			t.Fatal(err)
		}
		if n := writes.Load(); n != 1 {
			t.Errorf("%s: the request took %d writes, want 1", name, n)
		}
		if r := srv.last(); r.Path != "/v1/chat/completions" || r.SpecErr != nil || len(r.Body) == 0 {
			t.Errorf("%s: the server got %s, %d body bytes, spec: %v", name, r.Path, len(r.Body), r.SpecErr)
		}
	}
}
