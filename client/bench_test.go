package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// The Chat benchmarks run one non-streaming chat completion three ways,
// alternating in the same run against the same local server:
//
//   - sdk: c.Chat.Completions.New;
//   - raw: net/http + encoding/json into the same generated type, sending
//     the SDK's header set (the server's parsing of every header allocates
//     in this same process, so this measures the client code alone);
//   - struct: what a hand-written call does: net/http + encoding/json from
//     and into small hand-written structs holding only the fields a user
//     reads, with Content-Type and Authorization only. Its ratio includes
//     the typed decode and the server's parsing of the SDK's extra headers.
//
// Each reports its time and allocations per call, and the SDK's ratios to
// both baselines (targets: <= 1.1 time, and fewer than 121 allocations, the
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
func structChat(hc *http.Client, url, key string, p *structRequest) (*structCompletion, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
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
// client, one SDK client, and the three ways to call.
type chatBench struct {
	sides [3]func() error // sdk, raw, struct
}

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
	cb := &chatBench{sides: [3]func() error{
		func() error { _, err := c.Chat.Completions.New(ctx, p); return err },
		func() error { _, err := rawChat(hc, srv.URL, &p, headers); return err },
		func() error { _, err := structChat(hc, srv.URL, testKey, &sp); return err },
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

// report reports the per-call figures of the three sides and the SDK's
// ratios to both baselines.
func report(b *testing.B, calls float64, t [3]time.Duration, a [3]uint64) {
	for i, name := range [3]string{"sdk", "raw", "struct"} {
		b.ReportMetric(float64(t[i].Nanoseconds())/calls, name+"-ns/call")
		b.ReportMetric(float64(a[i])/calls, name+"-allocs/call")
	}
	b.ReportMetric(float64(t[0])/float64(t[1]), "time-ratio")
	b.ReportMetric(float64(a[0])/float64(a[1]), "allocs-ratio")
	b.ReportMetric(float64(t[0])/float64(t[2]), "struct-time-ratio")
	b.ReportMetric(float64(a[0])/float64(a[2]), "struct-allocs-ratio")
}

// BenchmarkChatCompletion runs the three sides one call at a time, in
// batches of 100, each iteration starting with the next side so that none
// always follows the same one (and pays for its garbage).
func BenchmarkChatCompletion(b *testing.B) {
	cb := newChatBench(b, 4)
	var t [3]time.Duration
	var a [3]uint64
	for i := 0; b.Loop(); i++ {
		for j := range 3 {
			side := (i + j) % 3
			d, n := measure(func() {
				for range 100 {
					if err := cb.sides[side](); err != nil {
						b.Fatal(err)
					}
				}
			})
			t[side], a[side] = t[side]+d, a[side]+n
		}
	}
	report(b, float64(b.N*100), t, a)
}

// BenchmarkChatCompletionParallel runs each side from 4·GOMAXPROCS
// goroutines at once through the same client (b.RunParallel, b.N calls per
// round), rotating the sides over 6 rounds; time per call is a round's wall
// time over its calls.
func BenchmarkChatCompletionParallel(b *testing.B) {
	const parallelism = 4
	cb := newChatBench(b, parallelism*runtime.GOMAXPROCS(0))
	b.SetParallelism(parallelism)
	var t [3]time.Duration
	var a [3]uint64
	for round := range 6 {
		for j := range 3 {
			side := (round + j) % 3
			d, n := measure(func() {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := cb.sides[side](); err != nil {
							b.Error(err) // not Fatal: this is not the benchmark's goroutine
							return
						}
					}
				})
			})
			t[side], a[side] = t[side]+d, a[side]+n
		}
	}
	report(b, float64(6*b.N), t, a) // RunParallel makes b.N calls in all
}
