package client_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Hedge benchmark settings: 1,000 streams, 50 at a time, against a fake
// whose first events wait 20 ms, and 1 s for 5 % of them (the 2 s
// tail, halved to keep a run short: the ratio of the p99s is what counts).
const (
	hedgeStreams     = 1000
	hedgeConcurrency = 50
	hedgeBase        = 20 * time.Millisecond
	hedgeTail        = time.Second
	hedgeTailShare   = 0.05
)

// BenchmarkHedgedFirstToken runs the same 1,000 streams unhedged and
// hedged (a learned delay: the p95 of the client's own times to first
// event, at least 50 ms), alternating in the same run against the same
// fake, after a warm-up of 200 streams each (a long-lived client has
// learned its delay), and reports the p50 and p99 time to first event of each (from the
// call to the first chunk), the hedged/unhedged ratio of both, and the
// extra requests the hedges cost, in percent of the streams. Goal: p99
// ratio <= 0.3 at <= 10 % extra requests.
func BenchmarkHedgedFirstToken(b *testing.B) {
	fake := cerebrastest.NewServer(b, cerebrastest.WithResponseValidation(false),
		cerebrastest.WithFirstEventDelay(cerebrastest.HeavyTail(hedgeBase, hedgeTail, hedgeTailShare, 42)))
	newClient := func(opts ...client.Option) *client.Client {
		base := []client.Option{client.WithAPIKey("csk-bench"), client.WithBaseURL(fake.URL), client.WithoutEnvironment(), client.WithTCPWarming(false)}
		c, err := client.New(append(base, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		return c
	}
	plain := newClient()
	hedged := newClient(client.WithHedging(client.HedgePolicy{MaxDelay: 500 * time.Millisecond}))
	params := client.ChatCompletionNewParams{Model: client.ModelGemma431B, Messages: []client.ChatMessage{client.UserMessage("Hello!")}}

	// A long-lived client has learned its delay: the hedged client runs
	// once before the measure (the plain one too, to warm the same way).
	runStreams(b, plain, params, 200)
	runStreams(b, hedged, params, 200)
	b.ResetTimer()

	var unhedgedTimes, hedgedTimes []time.Duration
	var extra int
	for i := range b.N {
		for k := range 2 {
			if (i+k)%2 == 0 { // alternate which goes first
				unhedgedTimes = append(unhedgedTimes, runStreams(b, plain, params, hedgeStreams)...)
				continue
			}
			before := fake.FirstEventDelays()
			hedgedTimes = append(hedgedTimes, runStreams(b, hedged, params, hedgeStreams)...)
			extra += fake.FirstEventDelays() - before - hedgeStreams
		}
	}
	u50, u99 := percentiles(unhedgedTimes)
	h50, h99 := percentiles(hedgedTimes)
	b.ReportMetric(ms(u50), "unhedged-p50-ms")
	b.ReportMetric(ms(u99), "unhedged-p99-ms")
	b.ReportMetric(ms(h50), "hedged-p50-ms")
	b.ReportMetric(ms(h99), "hedged-p99-ms")
	b.ReportMetric(float64(h50)/float64(u50), "p50-ratio")
	b.ReportMetric(float64(h99)/float64(u99), "p99-ratio")
	b.ReportMetric(100*float64(extra)/float64(b.N*hedgeStreams), "extra-req-%")
}

// runStreams runs n streams, hedgeConcurrency at a time, each read to its
// end, and returns their times to first event.
func runStreams(b *testing.B, c *client.Client, params client.ChatCompletionNewParams, n int) []time.Duration {
	b.Helper()
	times := make([]time.Duration, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for range hedgeConcurrency {
		wg.Go(func() {
			for i := range next {
				start := time.Now()
				s, err := c.Chat.Completions.NewStreaming(context.Background(), params)
				if err == nil {
					if s.Next() {
						times[i] = time.Since(start)
					}
					for s.Next() {
					}
					err = s.Err()
					s.Close()
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return times
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*50/100], s[len(s)*99/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
