package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// The Chat benchmarks run one non-streaming chat completion four ways,
// alternating in the same run against the same local server:
//
//   - sdk: c.Chat.Completions.New;
//   - raw: net/http + encoding/json into the same generated type, sending
//     the SDK's header set (the server's parsing of every header allocates
//     in this same process), so the ratio measures the client code alone;
//   - struct: what a hand-written call does: net/http + encoding/json from
//     and into small hand-written structs holding only the fields a user
//     reads, with Content-Type and Authorization only. Its ratio includes
//     the typed decode and the cost of the SDK's ten other headers;
//   - hdrstruct: the struct baseline sending the SDK's header set, which
//     tells those two apart.
//
// Each reports its time and allocations per call, and the SDK's ratios to
// the baselines (targets: <= 1.1 time, and fewer than 121 allocations, the
// count of go-openai, per call).

// rawChat is the raw baseline: the same generated types and headers as the SDK.
func rawChat(hc *http.Client, url string, p *ChatCompletionNewParams, headers http.Header) (*gen.ChatCompletion, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header = headers.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var c gen.ChatCompletion
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// structRequest and structCompletion are the struct baseline's wire types:
// the fields a hand-written call sends and reads.
type (
	structRequest struct {
		Model    string          `json:"model"`
		Messages []structMessage `json:"messages"`
	}
	structMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	structCompletion struct {
		ID      string `json:"id"`
		Choices []struct {
			FinishReason string        `json:"finish_reason"`
			Message      structMessage `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
)

// structChat is the struct baseline.
// headers, when not nil, replaces its two headers.
func structChat(hc *http.Client, url, key string, p *structRequest, headers http.Header) (*structCompletion, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if headers != nil {
		req.Header = headers.Clone()
	} else {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var c structCompletion
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, err
	}
	if len(c.Choices) != 1 || c.Choices[0].Message.Content == "" {
		return nil, fmt.Errorf("struct baseline decoded %+v", c)
	}
	return &c, nil
}

// chatBench holds what the Chat benchmarks share: one server, one HTTP
// client, one SDK client, and the ways to call.
type chatBench struct {
	sides [nSides]func() error
}

// The sides, in the order of chatBench.sides.
var sideNames = [...]string{"sdk", "raw", "struct", "hdrstruct"}

const nSides = len(sideNames)

func newChatBench(b *testing.B, idle int) *chatBench {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(chatJSON))
	}))
	b.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: idle}}
	c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false), WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	p := chatParams()
	sp := structRequest{Model: p.Model, Messages: []structMessage{{Role: "user", Content: "Hello!"}}}
	headers := staticHeaders()
	for k, v := range map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + testKey,
		"Accept": "application/json", "X-Stainless-Retry-Count": "0", "X-Stainless-Timeout": "60"} {
		headers.Set(k, v)
	}
	ctx := context.Background()
	cb := &chatBench{sides: [nSides]func() error{
		func() error { _, err := c.Chat.Completions.New(ctx, p); return err },
		func() error { _, err := rawChat(hc, srv.URL, &p, headers); return err },
		func() error { _, err := structChat(hc, srv.URL, testKey, &sp, nil); return err },
		func() error { _, err := structChat(hc, srv.URL, testKey, &sp, headers); return err },
	}}
	for range 10 { // connections up, lazily built state built
		for _, side := range cb.sides {
			if err := side(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return cb
}

// measure runs f and returns the time it took and the allocations made
// meanwhile (by every goroutine: the server's too).
func measure(f func()) (time.Duration, uint64) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	return d, m1.Mallocs - m0.Mallocs
}

// sample is one iteration's (or round's) time and allocations of every side.
type sample struct {
	t [nSides]time.Duration
	a [nSides]uint64
}

// run measures every side once with f, each sample starting with the next
// side so that none always follows the same one (and pays for its garbage).
func (s *sample) run(i int, f func(side int)) {
	for j := range nSides {
		side := (i + j) % nSides
		s.t[side], s.a[side] = measure(func() { f(side) })
	}
}

// report reports the mean time and allocations per call of every side, and
// the SDK's ratios to each baseline: for allocations the ratio of the
// totals, for time the median of the samples' ratios, which one stall of
// the shared machine cannot move.
func report(b *testing.B, callsPerSample float64, samples []sample) {
	var t [nSides]time.Duration
	var a [nSides]uint64
	for _, s := range samples {
		for i := range nSides {
			t[i], a[i] = t[i]+s.t[i], a[i]+s.a[i]
		}
	}
	calls := callsPerSample * float64(len(samples))
	for i, name := range sideNames {
		b.ReportMetric(float64(t[i].Nanoseconds())/calls, name+"-ns/call")
		b.ReportMetric(float64(a[i])/calls, name+"-allocs/call")
		if i == 0 {
			continue
		}
		prefix := name + "-"
		if name == "raw" {
			prefix = "" // the names these ratios had before the other baselines
		}
		ratios := make([]float64, len(samples))
		for k, s := range samples {
			ratios[k] = float64(s.t[0]) / float64(s.t[i])
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], prefix+"time-ratio")
		b.ReportMetric(float64(a[0])/float64(a[i]), prefix+"allocs-ratio")
	}
}

// BenchmarkChatCompletion runs the sides one call at a time, in batches of
// 5: short, so that the shared machine's load changes little from one side
// to the next.
func BenchmarkChatCompletion(b *testing.B) {
	const batch = 5
	cb := newChatBench(b, 4)
	var samples []sample
	for i := 0; b.Loop(); i++ {
		var s sample
		s.run(i, func(side int) {
			for range batch {
				if err := cb.sides[side](); err != nil {
					b.Fatal(err)
				}
			}
		})
		samples = append(samples, s)
	}
	report(b, batch, samples)
}

// BenchmarkChatCompletionParallel runs each side from 4·GOMAXPROCS
// goroutines at once through the same client (b.RunParallel, b.N calls per
// round), over 50 rounds; time per call is a round's wall time over its
// calls.
func BenchmarkChatCompletionParallel(b *testing.B) {
	const parallelism, rounds = 4, 50
	cb := newChatBench(b, parallelism*runtime.GOMAXPROCS(0))
	b.SetParallelism(parallelism)
	samples := make([]sample, rounds)
	for round := range samples {
		samples[round].run(round, func(side int) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := cb.sides[side](); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
		})
	}
	report(b, float64(b.N), samples) // RunParallel makes b.N calls in all
}
