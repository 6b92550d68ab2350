package client

import (
	"io"
	"mime"
	"net/http"

	"github.com/cerebras-go/cerebras/streaming"
)

// openStream turns the response of a streaming call into a stream, or into
// the error an error status or a non-stream response means. The stream
// replays its request if it fails before its first event (replay.go).
//
// A paced call's reservation is settled when the stream opens, its estimate
// kept; usage, which reads an event's usage (the final chunk's), books the
// real total in its place.
func openStream[T any](c *Client, cl *call, resp *http.Response, err error, usage func(*T) *Usage) (*streaming.Stream[T], error) {
	cl.pace.settle(resp, nil)
	if err := streamResponse(cl, resp, err); err != nil {
		cl.end(Outcome{Err: err})
		return nil, err
	}
	opts := []streaming.Option{streaming.WithRedaction(cl.cfg.apiKey), streaming.WithReopen(c.reopener(cl))}
	var so *streamObserver
	if cl.obs != nil {
		// From here the stream reports: its events, and its end.
		so = &streamObserver{obs: cl.obs, key: cl.cfg.apiKey}
		cl.obs = so // a replay's attempts go through it too
		opts = append(opts, streaming.WithOnEnd(so.onEnd))
	}
	switch {
	case cl.pace != nil && so != nil:
		opts = append(opts, streaming.WithOnEvent(func(v *T) { cl.pace.book(usage(v)); so.Event(v) }))
	case cl.pace != nil:
		// cl.pace, not the reservation of now: a replay has its own.
		opts = append(opts, streaming.WithOnEvent(func(v *T) { cl.pace.book(usage(v)) }))
	case so != nil:
		opts = append(opts, streaming.WithOnEvent(func(v *T) { so.Event(v) }))
	}
	if cl.cfg.idleTimeout > 0 {
		opts = append(opts, streaming.WithIdleTimeout(cl.cfg.idleTimeout))
	}
	if cl.cfg.maxEventSize > 0 {
		opts = append(opts, streaming.WithMaxEventSize(cl.cfg.maxEventSize))
	}
	return streaming.NewStream[T](resp, opts...), nil
}

// streamResponse returns the error that the outcome of a streaming call's
// attempts means, or nil for an event stream to read.
func streamResponse(cl *call, resp *http.Response, err error) error {
	if err != nil {
		return redactErr(err, cl.cfg.apiKey)
	}
	if cl.cfg.responseInto != nil {
		*cl.cfg.responseInto = resp
	}
	if resp.StatusCode >= 400 {
		return apiError(cl, resp)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "text/event-stream" {
			// Read as much as an error body, not just the 1 KiB kept: the
			// masks of earlier keys make the redacted text shorter than what
			// was read. responseError drops a key the read cuts off.
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
			resp.Body.Close()
			partial := len(body) > maxErrorBody
			return responseError(cl, resp.StatusCode, body[:min(len(body), maxErrorBody)], partial, errNotEventStream(ct))
		}
	}
	return nil
}

type errNotEventStream string

func (e errNotEventStream) Error() string {
	return "expected a text/event-stream response, got " + string(e)
}
