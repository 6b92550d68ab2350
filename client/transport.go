package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// Header values shared by every request; http.Header.Add never appends to
// them in place because their capacity equals their length.
var (
	acceptJSON        = []string{"application/json"}
	acceptEventStream = []string{"text/event-stream"}
	noCache           = []string{"no-cache"}
	gzipEncoding      = []string{"gzip"}
	retryCounts       = func() [][]string {
		v := make([][]string, 16)
		for i := range v {
			v[i] = []string{strconv.Itoa(i)}
		}
		return v
	}()
)

// callKey carries a call's merged configuration to the transport through
// the request context, since the generated client only passes requests on.
type callKey struct{}

// call is the state of one logical request across its attempts.
type call struct {
	cfg    config
	stream bool
}

// transport is the generated client's HttpRequestDoer: it adds the SDK's
// headers and runs the retry loop around the middleware and the HTTP client.
type transport struct {
	c *Client
}

func (t transport) Do(req *http.Request) (*http.Response, error) {
	cl, ok := req.Context().Value(callKey{}).(*call)
	if !ok {
		return nil, errors.New("client: request sent without a call configuration")
	}
	return t.c.send(req, cl)
}

// send runs the attempts of one request.
func (c *Client) send(req *http.Request, cl *call) (*http.Response, error) {
	ctx := req.Context()
	cfg := &cl.cfg
	do := c.chain(cfg)
	for attempt := 0; ; attempt++ {
		resp, timedOut, err := c.attempt(ctx, req, cl, attempt, do)
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
			if attempt >= cfg.maxRetries {
				if timedOut {
					return nil, &TimeoutError{Attempts: attempt + 1, After: cfg.requestTimeout, Err: redactErr(err, cfg.apiKey)}
				}
				return nil, &ConnectionError{Attempts: attempt + 1, Err: redactErr(err, cfg.apiKey)}
			}
			delay = backoff(attempt, c.jitter)
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
			return resp, nil
		}
		c.log(cfg, "cerebras: retrying", slog.Int("attempt", attempt+1), slog.Duration("delay", delay))
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("cerebras: %w", context.Cause(ctx))
		}
	}
}

// attempt sends one attempt. For ordinary calls, and for error statuses, it
// reads the body within the attempt (bounded for errors) so that a body that
// fails mid-way is retried and the per-attempt timeout covers it.
func (c *Client) attempt(ctx context.Context, orig *http.Request, cl *call, n int, do Next) (resp *http.Response, timedOut bool, err error) {
	cfg := &cl.cfg
	// The per-attempt timeout: a plain deadline for ordinary calls; for
	// streams a timer that is stopped once the headers arrive.
	var (
		actx    context.Context
		cancel  context.CancelFunc
		fired   atomic.Bool
		timer   *time.Timer
		release func()
	)
	switch {
	case cfg.requestTimeout > 0 && !cl.stream:
		actx, cancel = context.WithTimeout(ctx, cfg.requestTimeout)
		release = cancel
	case cfg.requestTimeout > 0:
		actx, cancel = context.WithCancel(ctx)
		timer = time.AfterFunc(cfg.requestTimeout, func() {
			fired.Store(true)
			cancel()
		})
		release = func() { timer.Stop(); cancel() }
	default:
		actx, cancel = context.WithCancel(ctx)
		release = cancel
	}
	isTimeout := func() bool {
		return fired.Load() || (ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded))
	}

	// The first attempt sends the request the generated client built; a
	// retry sends a fresh copy with the body replayed from GetBody.
	var req *http.Request
	if n == 0 {
		req = orig.WithContext(actx)
	} else {
		req = orig.Clone(actx)
		if orig.GetBody != nil {
			if req.Body, err = orig.GetBody(); err != nil {
				release()
				return nil, false, err
			}
		}
	}
	c.setHeaders(req, cfg, cl.stream, n)

	start := time.Now()
	resp, err = do(req)
	if err == nil && resp.Request == nil {
		resp.Request = req // a Doer other than *http.Client may leave it out; errors name it
	}
	if err == nil && (!cl.stream || resp.StatusCode >= 400) {
		err = bufferBody(resp)
		if err != nil {
			resp = nil
		}
	}
	c.logAttempt(cfg, req, n, resp, err, time.Since(start))
	switch {
	case err != nil:
		t := isTimeout()
		release()
		return nil, t, err
	case cl.stream && resp.StatusCode < 400:
		// Headers arrived: the per-attempt timeout is over; the stream's
		// idle timeout and the caller's context govern the rest.
		if timer != nil {
			timer.Stop()
		}
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: cancel}
		return resp, false, nil
	default:
		release()
		return resp, false, nil
	}
}

// bufferBody reads the body into memory (error bodies up to maxErrorBody)
// and replaces it with a re-readable *bufferedBody.
func bufferBody(resp *http.Response) error {
	defer resp.Body.Close()
	limit := int64(-1)
	if resp.StatusCode >= 400 {
		limit = maxErrorBody + 1
	}
	size := 512
	if cl := resp.ContentLength; cl > 0 && cl < 64<<20 && (limit < 0 || cl <= limit) {
		size = int(cl) + 1 // +1: EOF is seen without growing
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):cap(b)]
		if limit >= 0 && int64(len(b)+len(room)) > limit {
			room = room[:limit-int64(len(b))]
		}
		n, err := resp.Body.Read(room)
		b = b[:len(b)+n]
		if err == io.EOF || (limit >= 0 && int64(len(b)) >= limit) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the response body: %w", err)
		}
	}
	bb := &bufferedBody{b: b}
	bb.Reset(b)
	resp.Body = bb
	resp.ContentLength = int64(len(b))
	return nil
}

// bufferedBody is a response body already read into memory.
type bufferedBody struct {
	bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

// bodyBytes returns the bytes of a buffered body without copying them.
func bodyBytes(resp *http.Response) []byte {
	if bb, ok := resp.Body.(*bufferedBody); ok {
		return bb.b
	}
	b, _ := io.ReadAll(resp.Body)
	bb := &bufferedBody{b: b}
	bb.Reset(b)
	resp.Body = bb
	return b
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

// setHeaders adds the SDK's headers, then the caller's, to an attempt.
func (c *Client) setHeaders(req *http.Request, cfg *config, stream bool, attempt int) {
	// Start from a copy of the SDK's fixed headers (one map clone), then
	// add what the generated client set (Content-Type, header parameters).
	h := c.staticHeaders.Clone()
	for k, v := range req.Header {
		h[k] = v
	}
	req.Header = h
	h["Authorization"] = cfg.authHeader
	if stream {
		h["Accept"] = acceptEventStream
		h["Cache-Control"] = noCache
	} else {
		h["Accept"] = acceptJSON
	}
	if attempt < len(retryCounts) {
		h["X-Stainless-Retry-Count"] = retryCounts[attempt]
	} else {
		h["X-Stainless-Retry-Count"] = []string{strconv.Itoa(attempt)}
	}
	if cfg.timeoutHeader != nil {
		h["X-Stainless-Timeout"] = cfg.timeoutHeader
	}
	if cfg.gzip && req.Body != nil && req.Body != http.NoBody {
		h["Content-Encoding"] = gzipEncoding
	}
	for k, v := range cfg.headers {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
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
		if id := resp.Header.Get("X-Request-Id"); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	logAttrs(req.Context(), cfg, "cerebras: request", attrs)
}
