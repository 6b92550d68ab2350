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
	failed    int64 // calls that failed with another error than the deadline's
	elapsed   time.Duration
	share     float64 // tokens served / what the limit allows in the windows used
}

// pacingRun starts a fresh limiter and sends chat calls from every
// goroutine until the last window ends (a little before, so that a call
// held for the next reset is cancelled instead of spilling into a seventh
// window).
func pacingRun(b *testing.B, paced bool) pacingResult {
	srv := cerebrastest.NewServer(b, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithResponseValidation(false),
		cerebrastest.WithRateLimits(cerebrastest.RateLimits{RequestsPerDay: 1 << 40, TokensPerMinute: pacingTokens, Minute: pacingWindow}))
	start := srv.Clock().Now() // the limiter's windows start with the server
	tr := transport()
	tr.MaxIdleConnsPerHost = pacingGoroutines
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("load"), client.WithoutEnvironment(),
		client.WithTCPWarming(false), client.WithHTTPClient(&http.Client{Transport: tr}), client.WithRateLimitPacing(paced))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(pacingWindows*pacingWindow-pacingWindow/20))
	defer cancel()
	params := client.ChatCompletionNewParams{Model: "llama3.1-8b", MaxCompletionTokens: client.Int(20),
		Messages: []client.ChatMessage{client.UserMessage("please pace these calls evenly across every window of the limit")}}
	var (
		wg                sync.WaitGroup
		completed, failed atomic.Int64
	)
	for range pacingGoroutines {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, err := c.Chat.Completions.New(ctx, params)
				switch {
				case err == nil:
					completed.Add(1)
				case ctx.Err() != nil && errors.Is(err, ctx.Err()):
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	r := pacingResult{completed: completed.Load(), failed: failed.Load(), elapsed: time.Since(start)}
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
			s.elapsed += r.elapsed
			s.share += r.share
		}
		n++
	}
	per := func(v int64) float64 { return float64(v) / float64(n) }
	b.ReportMetric(per(paced.limited), "paced-429s")
	b.ReportMetric(per(paced.completed), "paced-completed")
	b.ReportMetric(per(paced.failed), "paced-failed")
	b.ReportMetric(paced.elapsed.Seconds()/float64(n), "paced-s")
	b.ReportMetric(paced.share/float64(n), "paced-share-of-limit")
	b.ReportMetric(per(base.limited), "base-429s")
	b.ReportMetric(per(base.completed), "base-completed")
	b.ReportMetric(per(base.failed), "base-failed")
	b.ReportMetric(base.elapsed.Seconds()/float64(n), "base-s")
	b.ReportMetric(base.share/float64(n), "base-share-of-limit")
	if paced.limited > 0 {
		b.Errorf("pacing got %d 429s", paced.limited)
	}
}
