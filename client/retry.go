package client

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// Backoff bounds: the n-th retry waits min(0.5 s·2ⁿ, 8 s), shortened by up to
// 25% jitter, unless the server asks for a delay.
const (
	initialBackoff = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
)

// retryableStatus reports whether a response should be retried
// (apierror.RetryableStatus: x-should-retry decides, else 408, 409, 429 and
// every 5xx).
func retryableStatus(resp *http.Response) bool {
	return apierror.RetryableStatus(resp.StatusCode, resp.Header)
}

// retryableCreate reports whether a create's error response may be
// retried: only when it cannot have taken effect, a 429 or an
// x-should-retry of "true" (anthropic-sdk-go's conservative retries). A 5xx
// may come after the server acted on the request.
func retryableCreate(resp *http.Response) bool {
	retry, _ := apierror.ShouldRetry(resp.Header)
	return resp.StatusCode == http.StatusTooManyRequests || retry
}

// retryDelay returns how long to wait before retry number attempt (0 for
// the first retry). A positive delay requested by the server (retry-after-ms,
// retry-after) is used as is; above maxDelay, retry is false: the caller
// returns the error instead of sleeping. Otherwise it is the jittered
// exponential backoff.
func retryDelay(h http.Header, attempt int, maxDelay time.Duration, now time.Time, jitter func() float64) (d time.Duration, retry bool) {
	if h != nil {
		if d, ok := apierror.RetryAfter(h, now); ok && d > 0 {
			if d > maxDelay {
				return d, false
			}
			return d, true
		}
	}
	return backoff(attempt, jitter), true
}

// backoff is min(0.5 s·2ⁿ, 8 s) minus up to 25% jitter.
func backoff(attempt int, jitter func() float64) time.Duration {
	d := maxBackoff
	if attempt < 5 {
		d = min(initialBackoff<<attempt, maxBackoff)
	}
	return d - time.Duration(0.25*jitter()*float64(d))
}

// defaultJitter is uniform in [0, 1).
func defaultJitter() float64 { return rand.Float64() }

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
