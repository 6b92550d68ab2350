package loadtest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Pacing load: 200 goroutines against a fake whose tokens-per-minute
// window lasts half a second, for six windows.
const (
	pacingGoroutines = 200
	pacingWindow     = 500 * time.Millisecond
	pacingWindows    = 6
	pacingTokens     = 6000 // per window: about 190 calls
)

// pacingResult is what one run measured.
type pacingResult struct {
	limited   int64 // 429s the server sent
	completed int64 // calls that succeeded
	failed    int64 // calls that failed: any error, a context's included, but the run's end
	late      int64 // goroutines whose last call was not sent because the run was over (see pacingRun)
	elapsed   time.Duration
	share     float64 // tokens served / what the limit allows in the windows used
}

// errRunOver is the middleware's error for a request the run's end came
// before.
var errRunOver = errors.New("loadtest: the run is over")

// runOverKey carries a call's flag, set when its request was not sent
// because the run was over.
type runOverKey struct{}

// pacingRun starts a fresh limiter and sends chat calls from every
// goroutine until the run's end, a little before the last window ends, so
// that nothing spills into a seventh window. A paced call is held until
// the end at most (WithPacingMaxWait): its *RateLimitWaitError, when the
// reset it needs is after the end, is no failure; nor is a request that
// the end came before (on a loaded machine a call released at its maximum
// wait may be sent late): a middleware refuses it, and the goroutine stops
// at such a call, the run being over for it. Every other error is a
// failure, a context's included: the calls' context ends with the last
// window and only cuts a call that should have finished by then (a hold
// that outlived its maximum wait, a retry's backoff).
func pacingRun(b *testing.B, paced bool) pacingResult {
	srv := cerebrastest.NewServer(b, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithResponseValidation(false),
		cerebrastest.WithRateLimits(cerebrastest.RateLimits{RequestsPerDay: 1 << 40, TokensPerMinute: pacingTokens, Minute: pacingWindow}))
	start := srv.Clock().Now() // the limiter's windows start with the server
	end := start.Add(pacingWindows*pacingWindow - pacingWindow/20)
	tr := transport()
	tr.MaxIdleConnsPerHost = pacingGoroutines
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("load"), client.WithoutEnvironment(),
		client.WithTCPWarming(false), client.WithHTTPClient(&http.Client{Transport: tr}), client.WithRateLimitPacing(paced),
		client.WithMiddleware(func(r *http.Request, next client.Next) (*http.Response, error) {
			if !time.Now().Before(end) {
				r.Context().Value(runOverKey{}).(*atomic.Bool).Store(true)
				return nil, errRunOver
			}
			return next(r)
		}))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(pacingWindows*pacingWindow))
	defer cancel()
	params := client.ChatCompletionNewParams{Model: client.ModelGemma431B, MaxCompletionTokens: client.Int(20),
		Messages: []client.ChatMessage{client.UserMessage("please pace these calls evenly across every window of the limit")}}
	var (
		wg                      sync.WaitGroup
		completed, failed, late atomic.Int64
	)
	for range pacingGoroutines {
		wg.Go(func() {
			for {
				left := time.Until(end)
				if left <= 0 {
					return
				}
				var over atomic.Bool
				_, err := c.Chat.Completions.New(context.WithValue(ctx, runOverKey{}, &over), params, client.WithPacingMaxWait(left))
				var we *client.RateLimitWaitError
				switch {
				case err == nil:
					completed.Add(1)
				case over.Load(), errors.As(err, &we) && we.Window != "" && !time.Now().Add(we.Wait).Before(end):
					late.Add(1)
					return // the run is over for this goroutine
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	r := pacingResult{completed: completed.Load(), failed: failed.Load(), late: late.Load(), elapsed: time.Since(start)}
	st := srv.RateLimitStats()
	r.limited = st.Limited
	r.share = float64(st.Tokens) / float64(pacingTokens*st.TokenWindows)
	return r
}

// BenchmarkPacing runs the load with rate-limit pacing and without it (the
// baseline: the SDK's default, retrying 429s twice after their
// retry-after), one run of each per iteration, and reports the 429s the
// server sent, the calls completed, the time to finish and the share of the
// token budget used.
func BenchmarkPacing(b *testing.B) {
	var paced, base pacingResult
	n := 0
	for b.Loop() {
		for _, side := range []struct {
			paced bool
			sum   *pacingResult
		}{{true, &paced}, {false, &base}} {
			r := pacingRun(b, side.paced)
			s := side.sum
			s.limited += r.limited
			s.completed += r.completed
			s.failed += r.failed
			s.late += r.late
			s.elapsed += r.elapsed
			s.share += r.share
		}
		n++
	}
	per := func(v int64) float64 { return float64(v) / float64(n) }
	b.ReportMetric(per(paced.limited), "paced-429s")
	b.ReportMetric(per(paced.completed), "paced-completed")
	b.ReportMetric(per(paced.failed), "paced-failed")
	b.ReportMetric(per(paced.late), "paced-not-sent-at-end")
	b.ReportMetric(paced.elapsed.Seconds()/float64(n), "paced-s")
	b.ReportMetric(paced.share/float64(n), "paced-share-of-limit")
	b.ReportMetric(per(base.limited), "base-429s")
	b.ReportMetric(per(base.completed), "base-completed")
	b.ReportMetric(per(base.failed), "base-failed")
	b.ReportMetric(per(base.late), "base-not-sent-at-end")
	b.ReportMetric(base.elapsed.Seconds()/float64(n), "base-s")
	b.ReportMetric(base.share/float64(n), "base-share-of-limit")
	// The goal: no 429 with pacing, and throughput within 5 % of
	// what the limit allows.
	if paced.limited > 0 {
		b.Errorf("pacing got %d 429s", paced.limited)
	}
	if paced.failed > 0 {
		b.Errorf("%d paced calls failed", paced.failed)
	}
	if share := paced.share / float64(n); share < 0.95 {
		b.Errorf("pacing used %.4f of the token limit, want at least 0.95", share)
	}
}
