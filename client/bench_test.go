package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// rawChat is the baseline: one chat completion with net/http and
// encoding/json into the same generated type, sending the same headers as
// the SDK (so the comparison measures client code, not header count: the
// server's parsing of each header allocates in this same process).
func rawChat(tb testing.TB, hc *http.Client, url string, p *ChatCompletionNewParams, headers http.Header) *gen.ChatCompletion {
	b, err := json.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = headers.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var c gen.ChatCompletion
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		tb.Fatal(err)
	}
	return &c
}

// BenchmarkChatCompletion compares one non-streaming call through the client
// with the raw baseline against the same local server, alternating in the
// same run, and reports the ratios (target: <= 1.1 for time and allocations).
func BenchmarkChatCompletion(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(chatJSON))
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false), WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	p := chatParams()
	ctx := context.Background()
	headers := staticHeaders()
	for k, v := range map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + testKey,
		"Accept": "application/json", "X-Stainless-Retry-Count": "0", "X-Stainless-Timeout": "60"} {
		headers.Set(k, v)
	}
	measure := func(f func()) (time.Duration, uint64) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		for range 100 {
			f()
		}
		d := time.Since(start)
		runtime.ReadMemStats(&m1)
		return d, m1.Mallocs - m0.Mallocs
	}
	var sdkT, rawT time.Duration
	var sdkA, rawA uint64
	for b.Loop() {
		t, a := measure(func() { rawChat(b, hc, srv.URL, &p, headers) })
		rawT, rawA = rawT+t, rawA+a
		t, a = measure(func() {
			if _, err := c.Chat.Completions.New(ctx, p); err != nil {
				b.Fatal(err)
			}
		})
		sdkT, sdkA = sdkT+t, sdkA+a
	}
	calls := float64(b.N * 100)
	b.ReportMetric(float64(sdkT.Nanoseconds())/calls, "sdk-ns/call")
	b.ReportMetric(float64(rawT.Nanoseconds())/calls, "raw-ns/call")
	b.ReportMetric(float64(sdkA)/calls, "sdk-allocs/call")
	b.ReportMetric(float64(rawA)/calls, "raw-allocs/call")
	b.ReportMetric(float64(sdkT)/float64(rawT), "time-ratio")
	b.ReportMetric(float64(sdkA)/float64(rawA), "allocs-ratio")
}
