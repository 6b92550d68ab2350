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
			if attempt >= cfg.maxRetries {
				if timedOut {
					return nil, &TimeoutError{Attempts: attempt + 1, After: cfg.requestTimeout, Err: err}
				}
				return nil, &ConnectionError{Attempts: attempt + 1, Err: err}
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
	actx, cancel := context.WithCancel(ctx)
	var fired atomic.Bool
	var timer *time.Timer
	if cfg.requestTimeout > 0 {
		timer = time.AfterFunc(cfg.requestTimeout, func() {
			fired.Store(true)
			cancel()
		})
	}
	release := func() {
		if timer != nil {
			timer.Stop()
		}
		cancel()
	}

	req := orig.Clone(actx)
	if orig.GetBody != nil {
		if req.Body, err = orig.GetBody(); err != nil {
			release()
			return nil, false, err
		}
	}
	c.setHeaders(req, cfg, cl.stream, n)

	start := time.Now()
	resp, err = do(req)
	if err == nil && (!cl.stream || resp.StatusCode >= 400) {
		err = bufferBody(resp)
		if err != nil {
			resp = nil
		}
	}
	c.logAttempt(cfg, req, n, resp, err, time.Since(start))
	switch {
	case err != nil:
		release()
		return nil, fired.Load(), err
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
// and replaces it with a re-readable copy.
func bufferBody(resp *http.Response) error {
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.StatusCode >= 400 {
		r = io.LimitReader(resp.Body, maxErrorBody+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading the response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return nil
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

// chain builds the middleware chain around the HTTP client.
func (c *Client) chain(cfg *config) Next {
	next := Next(cfg.httpClient.Do)
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		m, n := cfg.middleware[i], next
		next = func(r *http.Request) (*http.Response, error) { return m(r, n) }
	}
	return next
}

// setHeaders adds the SDK's headers, then the caller's, to an attempt.
func (c *Client) setHeaders(req *http.Request, cfg *config, stream bool, attempt int) {
	h := req.Header
	for k, v := range c.staticHeaders {
		h[k] = v
	}
	h.Set("Authorization", "Bearer "+cfg.apiKey)
	if stream {
		h.Set("Accept", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Accept", "application/json")
	}
	h.Set("X-Stainless-Retry-Count", strconv.Itoa(attempt))
	if cfg.requestTimeout > 0 {
		h.Set("X-Stainless-Timeout", strconv.Itoa(int(cfg.requestTimeout/time.Second)))
	}
	if cfg.gzip && req.Body != nil && req.Body != http.NoBody {
		h.Set("Content-Encoding", "gzip")
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
	cfg.logger.LogAttrs(context.Background(), slog.LevelDebug, msg, attrs...)
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
		attrs = append(attrs, slog.String("error", redact(err.Error(), cfg.apiKey)))
	}
	cfg.logger.LogAttrs(req.Context(), slog.LevelDebug, "cerebras: request", attrs...)
}
