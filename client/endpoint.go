package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
)

// endpoint is an operation's request as the generated client builds it:
// method, URL and headers (Content-Type and the header parameters). The
// wire format comes from the generated request builder; building it once
// per client, not once per call, saves parsing the base URL and resolving
// the path again on every request.
type endpoint struct {
	method string
	url    url.URL
	host   string
	header http.Header // shared and read-only: setHeaders copies it
}

// newEndpoint keeps what a generated request builder returned, built
// without a body.
func newEndpoint(req *http.Request, err error) (*endpoint, error) {
	if err != nil {
		return nil, err
	}
	return &endpoint{method: req.Method, url: *req.URL, host: req.Host, header: req.Header}, nil
}

// outgoing is what the attempts of one call send: either a request the
// generated client built (the models endpoints, the warm-up), sent itself on
// the first attempt and cloned for retries, or an endpoint and a body, from
// which every attempt builds its request with its own context.
type outgoing struct {
	built *http.Request
	url   url.URL // built's URL as it was: a middleware may change it in place

	ep      *endpoint
	body    []byte
	getBody func() (io.ReadCloser, error)
}

// replayable reports whether a retry can send the body again: a body from
// memory always can; a built request's body only through its GetBody (an
// upload from a plain io.Reader has none).
func (o *outgoing) replayable() bool {
	if o.built == nil {
		return true
	}
	b := o.built.Body
	return b == nil || b == http.NoBody || o.built.GetBody != nil
}

// request returns attempt n's request, whose context is ctx.
func (o *outgoing) request(ctx context.Context, n int) (*http.Request, error) {
	if o.built != nil {
		if n == 0 {
			return o.built.WithContext(ctx), nil
		}
		req := o.built.Clone(ctx)
		*req.URL = o.url
		if o.built.GetBody != nil {
			body, err := o.built.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		return req, nil
	}
	// An empty URL parses into an empty url.URL, into which the endpoint's
	// is copied: the request has its own URL, and nothing is parsed again.
	req, err := http.NewRequestWithContext(ctx, o.ep.method, "", nil)
	if err != nil {
		return nil, err
	}
	*req.URL = o.ep.url
	req.Host = o.ep.host
	req.Header = o.ep.header // setHeaders replaces it with the attempt's own
	if len(o.body) > 0 {
		if o.getBody == nil {
			b := o.body
			o.getBody = func() (io.ReadCloser, error) { return bodyReader(b), nil }
		}
		req.Body, req.GetBody, req.ContentLength = bodyReader(o.body), o.getBody, int64(len(o.body))
	}
	return req, nil
}

// bodyReader is a request body read from memory, the one http.NewRequest
// makes of a *bytes.Reader. A body type of our own would cost one allocation
// less, but net/http only recognises this one as in memory: for any other
// it flushes the headers in a write of their own, before the body.
func bodyReader(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
