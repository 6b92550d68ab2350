package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// maxErrorBody bounds how much of an error response is read (the response
// size limit, if lower, bounds it too); the *APIError keeps the first
// apierror.MaxBody bytes and parses the message from all of it.
const maxErrorBody = 1 << 20

// maxSizeHint bounds the buffer allocated for a body before it arrives: a
// Content-Length is only a claim, so it is believed this far and no
// further; beyond it the buffer grows with the bytes actually received.
const maxSizeHint = 64 << 10

// Header values the SDK sends. setHeaders copies every value into the
// request's own slices, so a middleware that edits one in place changes
// only that request.
const (
	acceptJSON        = "application/json"
	acceptEventStream = "text/event-stream"
	noCache           = "no-cache"
)

// retryCounts are the first X-Stainless-Retry-Count values, formatted once.
var retryCounts = func() []string {
	v := make([]string, 16)
	for i := range v {
		v[i] = strconv.Itoa(i)
	}
	return v
}()

// call is the state of one logical request across its attempts.
type call struct {
	cfg    config
	op     *operation
	stream bool // the success body is handed over unread, not buffered
	// accept, if set, is the Accept header instead of JSON's or SSE's
	// (file content).
	accept string
	// notReplayed is set by send when a failure would have been retried
	// but the request body cannot be sent again; the error says so.
	notReplayed bool
	// reached is set by each attempt: its request may have reached the
	// server whole (it was written, or answered), so that a create it
	// failed may have taken effect.
	reached bool
	// pace is the call's rate-limit reservation, nil unless paced.
	pace *reservation
	// opened is where a stream's attempts stopped, set by send when it
	// returns a stream: a replay before the first event goes on from there.
	opened opened
	// obs observes the call (observer.go), nil without an Observer.
	obs OperationObserver
	// hedge is the call's hedge state (hedge.go), nil when not hedged.
	hedge *hedging
}

// opened is the request, context and attempt number of an opened stream.
type opened struct {
	ctx     context.Context
	out     *outgoing
	attempt int
}

// send runs the attempts of one request.
func (c *Client) send(ctx context.Context, cl *call, o *outgoing) (*http.Response, error) {
	return c.sendFrom(ctx, cl, o, 0)
}

// sendFrom runs the attempts of one request from attempt number first on:
// 0 for a new call; a stream replayed before its first event (replay.go)
// goes on counting.
func (c *Client) sendFrom(ctx context.Context, cl *call, o *outgoing, first int) (final *http.Response, finalErr error) {
	cfg := &cl.cfg
	do := c.chain(cfg)
	// unreported is the attempt the observer has not been told of, or -1:
	// the last one is reported with what send returns.
	unreported := -1
	if cl.obs != nil {
		defer func() {
			if unreported >= 0 {
				cl.obs.Attempt(Attempt{Number: unreported, Response: final, Err: redactErr(finalErr, cfg.apiKey), Hedge: cl.hedge.is(unreported)})
			}
		}()
	}
	for attempt := first; ; attempt++ {
		var (
			resp     *http.Response
			timedOut bool
			err      error
			number   = attempt // the attempt whose outcome this is
		)
		if cl.hedge != nil { // a hedged race (hedge.go) may send one more: the retries go on after it
			resp, number, attempt, timedOut, err = c.race(ctx, o, cl, attempt, do)
		} else {
			resp, timedOut, err = c.attempt(ctx, o, cl, attempt, do)
		}
		cl.pace.observe(resp)
		if cl.obs != nil {
			unreported = number
		}
		if fe, ok := err.(finalError); ok {
			return nil, fe.err
		}
		if cerr := context.Cause(ctx); cerr != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, fmt.Errorf("cerebras: %w", cerr)
		}
		var delay time.Duration
		switch {
		case err != nil:
			var redirect *RedirectError
			if errors.As(err, &redirect) { // a retry would meet the same redirect
				return nil, redirect.redacted(cfg.apiKey)
			}
			mayHaveActed := cl.op.create && cl.reached
			if attempt >= cfg.maxRetries || !o.replayable() || mayHaveActed {
				var failed error = &ConnectionError{Attempts: attempt + 1, Err: redactErr(err, cfg.apiKey)}
				if timedOut {
					failed = &TimeoutError{Attempts: attempt + 1, After: cfg.requestTimeout, Err: redactErr(err, cfg.apiKey)}
				}
				switch {
				case attempt >= cfg.maxRetries:
				case mayHaveActed:
					c.log(cfg, "cerebras: not retrying a create that may have taken effect", slog.String("operation", cl.op.id))
				default:
					cl.notReplayed = true
					failed = &NotReplayedError{Err: failed}
				}
				return nil, failed
			}
			delay = backoff(attempt, c.jitter)
		case resp.StatusCode >= 400 && cl.op.create && !retryableCreate(resp):
			return resp, nil // it may have taken effect: a retry could create it twice
		case resp.StatusCode >= 400 && retryableStatus(resp) && attempt < cfg.maxRetries && !o.replayable():
			cl.notReplayed = true // apiError wraps the error in a *NotReplayedError
			return resp, nil
		case resp.StatusCode >= 400 && retryableStatus(resp) && attempt < cfg.maxRetries:
			d, retry := retryDelay(resp.Header, attempt, cfg.maxRetryDelay, time.Now(), c.jitter)
			if !retry {
				c.log(cfg, "cerebras: not retrying: the server asked for a delay above the maximum",
					slog.Duration("retry_after", d), slog.Duration("max_retry_delay", cfg.maxRetryDelay))
				return resp, nil
			}
			delay = d
			resp.Body.Close()
		default:
			if cl.stream {
				cl.opened = opened{ctx: ctx, out: o, attempt: attempt}
			}
			return resp, nil
		}
		c.log(cfg, "cerebras: retrying", slog.Int("attempt", attempt+1), slog.Duration("delay", delay))
		if cl.obs != nil {
			cl.obs.Attempt(Attempt{Number: number, Response: resp, Err: redactErr(err, cfg.apiKey), Retry: true, RetryDelay: delay, Hedge: cl.hedge.is(number)})
			unreported = -1
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("cerebras: %w", context.Cause(ctx))
		}
	}
}

// attempt sends one attempt. For ordinary calls, and for error statuses, it
// reads the body within the attempt (bounded for errors) so that a body that
// fails mid-way is retried and the per-attempt timeout covers it.
func (c *Client) attempt(ctx context.Context, o *outgoing, cl *call, n int, do Next) (resp *http.Response, timedOut bool, err error) {
	cfg := &cl.cfg
	// The per-attempt timeout: a plain deadline for ordinary calls; for
	// streams a timer that is stopped once the headers arrive. Either way
	// the attempt has one context of its own, which its request carries.
	var (
		actx   context.Context
		cancel context.CancelFunc
		st     *streamTimeout
	)
	switch {
	case cfg.requestTimeout > 0 && !cl.stream:
		actx, cancel = context.WithTimeout(ctx, cfg.requestTimeout)
	case cfg.requestTimeout > 0:
		actx, cancel = context.WithCancel(ctx)
		st = startStreamTimeout(cfg.requestTimeout, cancel)
	default:
		actx, cancel = context.WithCancel(ctx)
	}

	// A paced call learns whether the attempt wrote its request (a trace
	// that never starts, as with a Doer other than net/http's, may have
	// written it too), so that a failure keeps its estimate when the server
	// may have counted it (reservation.sent).
	//
	// A create learns whether its request reached the server whole (it
	// wrote all of it), after which a failure may have taken effect and is
	// not retried (operation.create).
	var traced, wrote, wroteAll atomic.Bool
	if cl.pace != nil || cl.op.create {
		actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
			GetConn:      func(string) { traced.Store(true) },
			WroteHeaders: func() { wrote.Store(true) },
			WroteRequest: func(i httptrace.WroteRequestInfo) {
				if i.Err == nil {
					wroteAll.Store(true)
				}
			},
		})
	}
	req, err := o.request(actx, n)
	if err != nil {
		st.stop()
		cancel()
		return nil, false, err
	}
	c.setHeaders(req, cfg, cl, n)

	start := time.Now()
	resp, err = do(req)
	answered := resp != nil
	if err != nil && resp != nil {
		// net/http returns both only when CheckRedirect failed, the body
		// already closed; another Doer or a middleware may leave it open.
		// The error is the outcome: close the body, or its connection leaks.
		if resp.Body != nil {
			resp.Body.Close()
		}
		resp = nil
	}
	switch {
	case err == nil && resp != nil && resp.StatusCode < 400:
		cl.pace.markSent() // answered: counted, even if the body fails or the context ends
	case err != nil && (wrote.Load() || !traced.Load()):
		cl.pace.markSent()
	}
	// A Doer other than net/http's runs no trace: its request may have
	// arrived; so has any request that got an answer.
	cl.reached = answered || wroteAll.Load() || !traced.Load()
	if err == nil && (resp == nil || resp.Body == nil) {
		err = finalError{nilResponse(req, resp)}
		resp = nil
	}
	if err == nil && resp.Request == nil {
		resp.Request = req // a Doer other than *http.Client may leave it out; errors name it
	}
	if err == nil && (!cl.stream || resp.StatusCode >= 400) {
		err = bufferBody(resp, cfg.maxResponse)
		if err != nil {
			resp = nil
		}
	}
	c.logAttempt(cfg, req, n, resp, err, time.Since(start))
	switch {
	case err != nil:
		t := st.fired() || (ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded))
		st.stop()
		cancel()
		return nil, t, err
	case cl.stream && resp.StatusCode < 400:
		// Headers arrived: the per-attempt timeout is over; the stream's
		// idle timeout and the caller's context govern the rest.
		st.stop()
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: cancel}
		return resp, false, nil
	default:
		st.stop()
		cancel()
		return resp, false, nil
	}
}

// streamTimeout is a stream's per-attempt timeout: it cancels the attempt
// unless stopped first, when the headers arrive. Its methods accept nil,
// the streamTimeout of an ordinary call or of no timeout.
type streamTimeout struct {
	timer *time.Timer
	done  atomic.Bool
}

func startStreamTimeout(d time.Duration, cancel context.CancelFunc) *streamTimeout {
	st := new(streamTimeout)
	st.timer = time.AfterFunc(d, func() {
		st.done.Store(true)
		cancel()
	})
	return st
}

func (st *streamTimeout) stop() {
	if st != nil {
		st.timer.Stop()
	}
}

func (st *streamTimeout) fired() bool { return st != nil && st.done.Load() }

// finalError marks an attempt's error that no retry can cure; send returns
// the error it wraps as it is.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }

// nilResponse is the error for a Doer or middleware that returned a nil
// response, or a response without a Body, and no error.
func nilResponse(req *http.Request, resp *http.Response) error {
	what := "a nil *http.Response and a nil error"
	if resp != nil {
		what = fmt.Sprintf("a %d response with a nil Body", resp.StatusCode)
	}
	return fmt.Errorf("%w: %s %s: Do returned %s", ErrNilResponse, req.Method, req.URL.Path, what)
}

// bufferBody reads the body into memory and replaces it with a re-readable
// *bufferedBody. A success body longer than limit (after decompression:
// Go's transport inflates gzip transparently) fails with a
// *ResponseTooLargeError, which no retry cures; an error body is read up to
// min(limit, maxErrorBody) and kept as a truncated prefix, since its status
// and message matter more than its end.
func bufferBody(resp *http.Response, limit int64) error {
	defer resp.Body.Close()
	failed := resp.StatusCode >= 400
	if failed {
		limit = min(limit, maxErrorBody)
	}
	tooLarge := func() error { return finalError{&ResponseTooLargeError{StatusCode: resp.StatusCode, Limit: limit}} }
	if !failed && resp.ContentLength > limit {
		return tooLarge() // the server says so itself: do not read it
	}
	b, over, err := readAtMost(resp.Body, limit, resp.ContentLength, failed)
	if err != nil {
		return fmt.Errorf("reading the response body: %w", err)
	}
	if over && !failed {
		return tooLarge()
	}
	bb := &bufferedBody{b: b, truncated: over}
	bb.Reset(b)
	resp.Body = bb
	resp.ContentLength = int64(len(b))
	return nil
}

// readAtMost reads r to its end, or until it has read more than limit
// bytes: then over is true and, if prefix, b holds the first limit bytes.
// It reads into chunks that start at the size hint (the claimed
// Content-Length, believed up to maxSizeHint) and double up to maxChunk,
// never past limit+1 bytes in all, and joins them once at the end: a body
// over the limit costs about the limit, never the doubling's twice, and
// one that fits in the first chunk is not copied.
func readAtMost(r io.Reader, limit, hint int64, prefix bool) (b []byte, over bool, err error) {
	ceiling := min(limit, math.MaxInt-1) + 1 // one byte over tells "over" from "exactly"
	size := int64(512)
	if hint >= 0 {
		size = min(hint+1, maxSizeHint) // +1: EOF is seen without another chunk
	}
	var chunks [][]byte
	var total int64
	for {
		buf := make([]byte, min(size, ceiling-total))
		n, err := fill(r, buf)
		if n > 0 {
			chunks = append(chunks, buf[:n])
			total += int64(n)
		}
		switch {
		case total > limit:
			if !prefix {
				return nil, true, nil
			}
			return join(chunks, limit), true, nil
		case err == io.EOF:
			return join(chunks, total), false, nil
		case err != nil: // such as a body cut short: io.ErrUnexpectedEOF
			return nil, false, err
		}
		size = min(2*size, maxChunk)
	}
}

// fill reads into buf until it is full or r ends: err is io.EOF only when
// r said so (unlike io.ReadFull, which also reports a cut body as
// io.ErrUnexpectedEOF).
func fill(r io.Reader, buf []byte) (n int, err error) {
	for n < len(buf) && err == nil {
		var m int
		m, err = r.Read(buf[n:])
		n += m
	}
	return n, err
}

// maxChunk bounds the chunks readAtMost reads into.
const maxChunk = 8 << 20

// join returns the first n bytes of the chunks as one slice: the first
// chunk itself when it holds them.
func join(chunks [][]byte, n int64) []byte {
	if len(chunks) == 0 {
		return nil
	}
	if int64(len(chunks[0])) >= n {
		return chunks[0][:n]
	}
	b := make([]byte, 0, n)
	for _, c := range chunks {
		b = append(b, c[:min(int64(len(c)), n-int64(len(b)))]...)
	}
	return b
}

// bufferedBody is a response body already read into memory: all of it, or
// for an error status, a truncated prefix.
type bufferedBody struct {
	bytes.Reader
	b         []byte
	truncated bool
}

func (*bufferedBody) Close() error { return nil }

// bodyBytes returns the bytes of a body that attempt buffered, without
// copying them, and whether they are only a prefix. attempt buffers every
// body that is read whole; any other body is closed unread and reads as
// empty, rather than read without a bound.
func bodyBytes(resp *http.Response) (b []byte, truncated bool) {
	if bb, ok := resp.Body.(*bufferedBody); ok {
		return bb.b, bb.truncated
	}
	resp.Body.Close()
	resp.Body = http.NoBody
	return nil, false
}

// releasingBody cancels the attempt's context when the stream is closed.
type releasingBody struct {
	io.ReadCloser
	release context.CancelFunc
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// chain builds the middleware chain around the HTTP client. Below the
// middleware, keyStaysHome keeps the API key off requests a middleware
// points at another origin.
func (c *Client) chain(cfg *config) Next {
	if len(cfg.middleware) == 0 && !cfg.ownDoer {
		return c.do
	}
	next := Next(cfg.httpClient.Do)
	if len(cfg.middleware) > 0 {
		next = c.keyStaysHome(cfg, next)
	}
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		m, n := cfg.middleware[i], next
		next = func(r *http.Request) (*http.Response, error) { return m(r, n) }
	}
	return next
}

// setHeaders gives an attempt its headers: the SDK's, the generated
// client's (Content-Type, header parameters), then the caller's. The
// request owns all of them: the values are copied into one new backing
// array, each slice capped at its length so that an append cannot reach its
// neighbour, because the sources (the client's prebuilt Authorization,
// WithHeader values, the generated request that every retry is cloned
// from) are shared. One map and one slice per attempt, like Header.Clone.
// Content-Type and Content-Encoding come with the endpoint's headers, set
// for the call's request encoding (encoding.go).
func (c *Client) setHeaders(req *http.Request, cfg *config, cl *call, attempt int) {
	keys, vals := len(c.staticHeaders)+len(req.Header)+len(cfg.headers)+6, 6
	for _, h := range []http.Header{c.staticHeaders, req.Header, cfg.headers} {
		for _, vs := range h {
			vals += len(vs)
		}
	}
	b := headerBuilder{h: make(http.Header, keys), vals: make([]string, 0, vals)}
	for k, vs := range c.staticHeaders {
		b.set(k, vs...)
	}
	for k, vs := range req.Header {
		b.set(k, vs...)
	}
	if len(cfg.authHeader) > 0 { // none for the public endpoints
		b.set("Authorization", cfg.authHeader...)
	}
	switch {
	case cl.accept != "":
		b.set("Accept", cl.accept)
	case cl.stream:
		b.set("Accept", acceptEventStream)
		b.set("Cache-Control", noCache)
	default:
		b.set("Accept", acceptJSON)
	}
	if attempt < len(retryCounts) {
		b.set("X-Stainless-Retry-Count", retryCounts[attempt])
	} else {
		b.set("X-Stainless-Retry-Count", strconv.Itoa(attempt))
	}
	if cfg.timeoutHeader != nil {
		b.set("X-Stainless-Timeout", cfg.timeoutHeader...)
	}
	for k, vs := range cfg.headers {
		if vs == nil {
			delete(b.h, k)
		} else {
			b.set(k, vs...)
		}
	}
	req.Header = b.h
	if len(cfg.query) > 0 {
		q := req.URL.Query()
		for k, vs := range cfg.query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		req.URL.RawQuery = q.Encode()
	}
}

// headerBuilder fills a header whose values share one backing array.
type headerBuilder struct {
	h    http.Header
	vals []string
}

// set copies vs into the backing array and sets h[k] to that copy, with no
// spare capacity.
func (b *headerBuilder) set(k string, vs ...string) {
	start := len(b.vals)
	b.vals = append(b.vals, vs...)
	b.h[k] = b.vals[start:len(b.vals):len(b.vals)]
}

func (c *Client) log(cfg *config, msg string, attrs ...slog.Attr) {
	if cfg.logger == nil {
		return
	}
	logAttrs(context.Background(), cfg, msg, attrs)
}

func (c *Client) logAttempt(cfg *config, req *http.Request, attempt int, resp *http.Response, err error, d time.Duration) {
	if cfg.logger == nil || !cfg.logger.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if id := resp.Header.Get(apierror.HeaderXRequestID); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	logAttrs(req.Context(), cfg, "cerebras: request", attrs)
}
