package client

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// TestFarResetsSaturate: a rate-limit reset or a retry delay too far off
// for a Duration saturates at the largest one. A reset of 9223372036.85…
// s used to wrap to −292 years and 1e10, 1e308 or Infinity to 0, so pacing
// sent the next call into a spent budget; a Retry-After of 1e400 (beyond a
// float64) was retried at once.
func TestFarResetsSaturate(t *testing.T) {
	for _, reset := range []string{"9223372036.854775807", "1e10", "1e308", "1e400", "Infinity"} {
		t.Run("reset "+reset, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				h := w.Header()
				h.Set(apierror.HeaderXRatelimitLimitTokensMinute, "1000")
				h.Set(apierror.HeaderXRatelimitRemainingTokensMinute, "0")
				h.Set(apierror.HeaderXRatelimitResetTokensMinute, reset)
				writeJSON(w, 200, chatJSON)
			})
			c, _ := newTestClient(t, srv, WithRateLimitPacing(true))
			if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
				t.Fatal(err)
			}
			_, err := c.Chat.Completions.New(context.Background(), chatParams())
			var we *RateLimitWaitError
			if !errors.As(err, &we) || we.Wait <= DefaultPacingMaxWait {
				t.Fatalf("err = %v, want a *RateLimitWaitError: the budget is spent until a far reset", err)
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("the server got %d requests, want 1", n)
			}
		})
	}
	for _, h := range []string{"Retry-After", "Retry-After-Ms"} {
		t.Run(h+" 1e400", func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set(h, "1e400")
				writeJSON(w, 429, `{"error":{"message":"slow down"}}`)
			})
			c, delays := newTestClient(t, srv)
			_, err := c.Chat.Completions.New(context.Background(), chatParams())
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Duration(math.MaxInt64) {
				t.Fatalf("err = %v, want the 429 with the largest RetryAfter", err)
			}
			if n := len(srv.requests()); n != 1 || len(*delays) != 0 {
				t.Errorf("%d requests, delays %v: want 1 and none (the delay is above the maximum)", n, *delays)
			}
		})
	}
}
