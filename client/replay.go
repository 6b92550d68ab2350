package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cerebras-go/cerebras/internal/apierror"
	"github.com/cerebras-go/cerebras/streaming"
)

// errStreamClosed is the cause of a replay's context when the caller closes
// the stream.
var errStreamClosed = errors.New("cerebras: the stream was closed")

// reopener returns the hook with which a stream replays its call when it
// fails before its first event: the connection broke, the body ended before
// [DONE], the idle timeout fired, or an error event with a retryable
// status_code (408, 409, 429, 5xx) arrived. Nothing was shown to the
// caller, so sending the request again cannot show text twice. The replay
// is one more attempt of the same call: it takes from the call's retry
// budget (WithMaxRetries), waits the same backoff (an error event has no
// retry-after header), sends the next X-Stainless-Retry-Count, and then runs
// the rest of the call's attempts through send.
func (c *Client) reopener(cl *call) streaming.ReopenFunc {
	return func(life context.Context, cause error) (*http.Response, error) {
		return c.replay(life, cl, cause)
	}
}

// replay is the reopener's hook. life ends when the stream is closed.
func (c *Client) replay(life context.Context, cl *call, cause error) (*http.Response, error) {
	cfg, ctx, o, failed := &cl.cfg, cl.opened.ctx, cl.opened.out, cl.opened.attempt
	if o == nil { // not opened by send: nothing to replay
		return nil, cause
	}
	if cerr := context.Cause(ctx); cerr != nil {
		return nil, fmt.Errorf("cerebras: %w", cerr)
	}
	var apiErr *APIError
	if errors.As(cause, &apiErr) && !errors.Is(cause, streaming.ErrTruncated) {
		// A whole error event: the server's answer, retried like its status.
		if !apierror.RetryableStatus(apiErr.StatusCode, nil) || failed >= cfg.maxRetries {
			return nil, cause
		}
		if !o.replayable() {
			return nil, &NotReplayedError{Err: cause}
		}
	} else if failed >= cfg.maxRetries || !o.replayable() {
		var final error = &ConnectionError{Attempts: failed + 1, Err: redactErr(cause, cfg.apiKey)}
		if failed < cfg.maxRetries {
			final = &NotReplayedError{Err: final}
		}
		return nil, final
	}

	// The attempts' context: the call's, ended too when the stream is
	// closed, so that Close aborts the backoff and the request.
	rctx, cancel := context.WithCancelCause(ctx)
	context.AfterFunc(life, func() { cancel(errStreamClosed) })
	delay := backoff(failed, c.jitter)
	c.log(cfg, "cerebras: retrying", slog.Int("attempt", failed+1), slog.Duration("delay", delay),
		slog.String("reason", "stream failed before its first event"), slog.String("error", cause.Error()))
	if cl.obs != nil { // the attempt was reported when its stream opened: now it failed
		cl.obs.Attempt(Attempt{Number: failed, Err: redactErr(cause, cfg.apiKey), Retry: true, RetryDelay: delay})
	}
	if err := c.sleep(rctx, delay); err != nil {
		cause := context.Cause(rctx)
		cancel(nil)
		return nil, fmt.Errorf("cerebras: %w", cause)
	}
	// The replay is one more request for the server's limits: a paced
	// call books it again, at once (no hold: the call was
	// let through, and a 429 is retried), and settles it like openStream.
	// The failed request keeps its estimate: the server may have counted it.
	cl.pace = cl.pace.again()
	resp, err := c.sendFrom(rctx, cl, o, failed+1)
	cl.pace.settle(resp, nil)
	if err := streamResponse(cl, resp, err); err != nil {
		cancel(nil)
		return nil, err
	}
	return resp, nil // its body lives until the stream is closed, which ends rctx
}
