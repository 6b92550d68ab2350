package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// sseBody is a realistic stream of n chat chunks (~230 bytes each).
func sseBody(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-5b7a3c2e-1f0d-4e8a-9b6c-2d4f6a8c0e1f","choices":[{"delta":{"content":" tok%d","role":null},"finish_reason":null,"index":0,"logprobs":null}],"created":1758191360,"model":"llama-3.3-70b","object":"chat.completion.chunk","service_tier":null,"system_fingerprint":"fp_c5ec625e72d41732d8fd","usage":null}`+"\n\n", i%1000)
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

func transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 64
	return tr
}

// runResult is one run of many concurrent streams.
type runResult struct {
	elapsed time.Duration
	chunks  int64
	ttfc    []time.Duration // time to first chunk, per stream
	peak    uint64          // peak live heap growth during the run
}

// heapSampler tracks the peak of the live heap while a run goes on.
func heapSampler() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > base && v-base > peak.Load() {
					peak.Store(v - base)
				}
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

func concurrently(streams int, one func(i int) (time.Duration, int64)) runResult {
	stop := heapSampler()
	var r runResult
	r.ttfc = make([]time.Duration, streams)
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range streams {
		wg.Go(func() {
			ttfc, n := one(i)
			r.ttfc[i] = ttfc
			total.Add(n)
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.peak = stop()
	r.chunks = total.Load()
	return r
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkConcurrentStreams runs 1,000 concurrent streams of 1,000 chunks
// each through one SDK client against the fake server, and the same load
// through a raw baseline (net/http + bufio.Scanner + encoding/json into a
// minimal struct), in the same run. It reports throughput, time to first
// chunk and peak heap for both, and their ratios.
func BenchmarkConcurrentStreams(b *testing.B) {
	const streams, chunks = 1000, 1000
	body := string(sseBody(chunks))
	srv := cerebrastest.NewServer(b, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithResponseValidation(false))
	enqueue := func() {
		resp := cerebrastest.Response{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: body}
		for range streams {
			srv.Enqueue(resp)
		}
	}
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("load"), client.WithoutEnvironment(),
		client.WithTCPWarming(false), client.WithHTTPClient(&http.Client{Transport: transport()}))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	raw := &http.Client{Transport: transport()}
	params := client.ChatCompletionNewParams{Model: client.ModelGemma431B, Messages: []client.ChatMessage{client.UserMessage("go")}}
	rawBody, _ := json.Marshal(map[string]any{"model": client.ModelGemma431B, "messages": []map[string]string{{"role": "user", "content": "go"}}, "stream": true})

	sdkStream := func(int) (time.Duration, int64) {
		start := time.Now()
		var ttfc time.Duration
		stream, err := c.Chat.Completions.NewStreaming(context.Background(), params)
		if err != nil {
			b.Error(err)
			return 0, 0
		}
		var n int64
		for chunk, err := range stream.All() {
			if err != nil {
				b.Error(err)
				break
			}
			if n == 0 {
				ttfc = time.Since(start)
			}
			if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
				n++
			}
		}
		return ttfc, n
	}
	rawStream := func(int) (time.Duration, int64) {
		start := time.Now()
		var ttfc time.Duration
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", bytes.NewReader(rawBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer load")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := raw.Do(req)
		if err != nil {
			b.Error(err)
			return 0, 0
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 32<<20)
		var n int64
		for sc.Scan() {
			line, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
			if !ok {
				continue
			}
			if bytes.Equal(line, []byte("[DONE]")) {
				break
			}
			var m struct {
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				b.Error(err)
				break
			}
			if n == 0 {
				ttfc = time.Since(start)
			}
			if len(m.Choices) > 0 && m.Choices[0].Delta.Content != "" {
				n++
			}
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return ttfc, n
	}

	var sdk, base runResult
	for b.Loop() {
		enqueue()
		r := concurrently(streams, rawStream)
		base.elapsed, base.chunks, base.ttfc, base.peak = base.elapsed+r.elapsed, base.chunks+r.chunks, append(base.ttfc, r.ttfc...), max(base.peak, r.peak)
		enqueue()
		r = concurrently(streams, sdkStream)
		sdk.elapsed, sdk.chunks, sdk.ttfc, sdk.peak = sdk.elapsed+r.elapsed, sdk.chunks+r.chunks, append(sdk.ttfc, r.ttfc...), max(sdk.peak, r.peak)
	}
	if sdk.chunks != base.chunks || sdk.chunks != int64(b.N*streams*chunks) {
		b.Fatalf("chunks: sdk %d, baseline %d, want %d", sdk.chunks, base.chunks, b.N*streams*chunks)
	}
	sdkRate := float64(sdk.chunks) / sdk.elapsed.Seconds()
	baseRate := float64(base.chunks) / base.elapsed.Seconds()
	b.ReportMetric(sdkRate, "sdk-chunks/s")
	b.ReportMetric(baseRate, "base-chunks/s")
	b.ReportMetric(sdkRate/baseRate, "throughput-ratio")
	b.ReportMetric(float64(percentile(sdk.ttfc, 0.5).Microseconds())/1000, "sdk-ttfc-p50-ms")
	b.ReportMetric(float64(percentile(sdk.ttfc, 0.99).Microseconds())/1000, "sdk-ttfc-p99-ms")
	b.ReportMetric(float64(percentile(base.ttfc, 0.5).Microseconds())/1000, "base-ttfc-p50-ms")
	b.ReportMetric(float64(percentile(base.ttfc, 0.99).Microseconds())/1000, "base-ttfc-p99-ms")
	b.ReportMetric(float64(sdk.peak)/(1<<20), "sdk-peak-heap-MiB")
	b.ReportMetric(float64(base.peak)/(1<<20), "base-peak-heap-MiB")
	b.ReportMetric(float64(sdk.peak)/float64(base.peak), "peak-heap-ratio")
}
