package streaming

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

// realisticChunk follows a chunk recorded from the live API (llama-stack's
// integration tests): explicit nulls, ~230 bytes.
func realisticChunk(i int) string {
	return fmt.Sprintf(`{"id":"chatcmpl-5b7a3c2e-1f0d-4e8a-9b6c-2d4f6a8c0e1f","choices":[{"delta":{"content":" token%d","role":null},"finish_reason":null,"index":0,"logprobs":null}],"created":1758191360,"model":"llama-3.3-70b","object":"chat.completion.chunk","service_tier":null,"system_fingerprint":"fp_c5ec625e72d41732d8fd","usage":null}`, i%1000)
}

func streamBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`data: {"id":"chatcmpl-5b7a3c2e-1f0d-4e8a-9b6c-2d4f6a8c0e1f","choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1758191360,"model":"llama-3.3-70b","object":"chat.completion.chunk","service_tier":null,"system_fingerprint":"fp_c5ec625e72d41732d8fd","usage":null}` + "\n\n")
	for i := 0; i < n-2; i++ {
		b.WriteString("data: " + realisticChunk(i) + "\n\n")
	}
	b.WriteString(`data: {"id":"chatcmpl-5b7a3c2e-1f0d-4e8a-9b6c-2d4f6a8c0e1f","choices":[{"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1758191360,"model":"llama-3.3-70b","object":"chat.completion.chunk","service_tier":null,"system_fingerprint":"fp_c5ec625e72d41732d8fd","usage":{"prompt_tokens":12,"completion_tokens":998,"total_tokens":1010},"time_info":{"queue_time":0.0001,"prompt_time":0.001,"completion_time":0.5,"total_time":0.51,"created":1758191360}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

func bodyServer(tb testing.TB, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// minimalChunk is the baseline's target: only what a naive client reads.
type minimalChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

// baseline: net/http + bufio.Scanner + encoding/json into minimalChunk.
func baseline(tb testing.TB, c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 32<<20)
	n := 0
	for sc.Scan() {
		line, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(line, []byte("[DONE]")) {
			break
		}
		var m minimalChunk
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatal(err)
		}
		if len(m.Choices) > 0 {
			n += len(m.Choices[0].Delta.Content)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return n
}

// sdk: the public streaming API into the fully typed gen.ChatCompletionChunk.
func sdk(tb testing.TB, c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	s := NewStream[gen.ChatCompletionChunk](resp)
	defer s.Close()
	n := 0
	for s.Next() {
		ch := s.Current()
		if len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
			n += len(ch.Choices[0].Delta.Content)
		}
	}
	if err := s.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

func measure(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.Mallocs - before.Mallocs
}

// BenchmarkStream decodes realistic chunk streams served over loopback HTTP,
// through the SDK and through the minimal baseline, alternating in the same
// run, and reports both per chunk and their ratios (target: ratio <= 1).
func BenchmarkStream(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			srv := bodyServer(b, streamBody(n))
			c := srv.Client()
			if baseline(b, c, srv.URL) != sdk(b, c, srv.URL) {
				b.Fatal("the SDK and the baseline read different content")
			}
			var sdkT, baseT time.Duration
			var sdkA, baseA uint64
			b.ResetTimer()
			for b.Loop() {
				t, a := measure(func() { baseline(b, c, srv.URL) })
				baseT, baseA = baseT+t, baseA+a
				t, a = measure(func() { sdk(b, c, srv.URL) })
				sdkT, sdkA = sdkT+t, sdkA+a
			}
			chunks := float64(b.N * n)
			b.ReportMetric(float64(sdkT.Nanoseconds())/chunks, "sdk-ns/chunk")
			b.ReportMetric(float64(baseT.Nanoseconds())/chunks, "base-ns/chunk")
			b.ReportMetric(float64(sdkA)/chunks, "sdk-allocs/chunk")
			b.ReportMetric(float64(baseA)/chunks, "base-allocs/chunk")
			b.ReportMetric(float64(sdkT)/float64(baseT), "time-ratio")
			b.ReportMetric(float64(sdkA)/float64(baseA), "allocs-ratio")
		})
	}
}

// BenchmarkChunkDecode isolates the JSON decode of one chunk: the fast
// decoder into the full type against encoding/json into the full type and
// into the minimal one.
func BenchmarkChunkDecode(b *testing.B) {
	data := []byte(realisticChunk(42))
	b.Run("fast-full", func(b *testing.B) {
		d := newChunkDecoder()
		b.ReportAllocs()
		for b.Loop() {
			var c gen.ChatCompletionChunk
			if _, err := d.decode(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c gen.ChatCompletionChunk
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-minimal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c minimalChunk
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// repeatServer serves one event n times, then [DONE], and returns the
// response of a GET to it.
func repeatServer(t *testing.T, event []byte, n int) *http.Response {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		bw := bufio.NewWriterSize(w, 64<<10)
		for range n {
			_, _ = bw.Write(event)
		}
		_, _ = bw.WriteString("data: [DONE]\n\n")
		_ = bw.Flush()
	}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestStreamHeapIsFlat streams 100k chunks and checks the live heap does not
// grow with the stream's length.
func TestStreamHeapIsFlat(t *testing.T) {
	const n = 100_000
	s := NewStream[gen.ChatCompletionChunk](repeatServer(t, []byte("data: "+realisticChunk(1)+"\n\n"), n))
	defer s.Close()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var at10k, max uint64
	count := 0
	for s.Next() {
		count++
		if count%10_000 == 0 {
			h := heap()
			if count == 10_000 {
				at10k = h
			}
			if h > max {
				max = h
			}
		}
	}
	if err := s.Err(); err != nil || count != n {
		t.Fatalf("count %d err %v", count, err)
	}
	if growth := int64(max) - int64(at10k); growth > 1<<20 {
		t.Errorf("live heap grew by %d bytes between chunk 10k and 100k", growth)
	}
	t.Logf("live heap: %d bytes at 10k chunks, max %d over 100k", at10k, max)
}

// TestAccumulatorHeapIsLinearInText streams 100k one-byte deltas into the
// accumulator: the live heap may grow with the accumulated text (100 KB),
// not with the chunks (~230 B each, 23 MB if any were retained).
func TestAccumulatorHeapIsLinearInText(t *testing.T) {
	const n = 100_000
	chunk := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"llama-3.3-70b","system_fingerprint":"fp_c5ec625e72d41732d8fd","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null,"logprobs":null}]}` + "\n\n")
	s := NewStream[gen.ChatCompletionChunk](repeatServer(t, chunk, n))
	defer s.Close()
	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	var acc ChatCompletionAccumulator
	var at10k int64
	count := 0
	for s.Next() {
		acc.AddChunk(s.Current())
		if count++; count == 10_000 {
			at10k = heap()
		}
	}
	if err := s.Err(); err != nil || count != n {
		t.Fatalf("count %d err %v", count, err)
	}
	growth := heap() - at10k
	text := acc.ChatCompletion().Choices[0].Message.Content
	if len(text) != n {
		t.Fatalf("accumulated %d bytes", len(text))
	}
	// 90 KB of new text; a strings.Builder may hold up to twice that.
	if growth > 512<<10 {
		t.Errorf("live heap grew by %d bytes for 90k one-byte chunks", growth)
	}
	t.Logf("live heap growth from chunk 10k to 100k: %d bytes (%.2f B/chunk)", growth, float64(growth)/90_000)
}

// toolStreamBody is a tool call streamed the way the API streams one: the
// call's id, type and name first, then argument fragments, then the finish.
func toolStreamBody(n int) []byte {
	const head = `{"id":"chatcmpl-5b7a3c2e-1f0d-4e8a-9b6c-2d4f6a8c0e1f","object":"chat.completion.chunk","created":1758191360,"model":"llama-3.3-70b","system_fingerprint":"fp_c5ec625e72d41732d8fd",`
	var b bytes.Buffer
	b.WriteString("data: " + head + `"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_9f8e7d6c","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null,"logprobs":null}]}` + "\n\n")
	for i := 0; i < n-2; i++ {
		fmt.Fprintf(&b, "data: %s\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"%s\"}}]},\"finish_reason\":null,\"logprobs\":null}]}\n\n", head, []string{`{\"city\":`, `\"Par`, `is\",`, `\"n\":1}`}[i%4])
	}
	b.WriteString("data: " + head + `"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls","logprobs":null}],"usage":{"prompt_tokens":12,"completion_tokens":998,"total_tokens":1010}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// minimalToolChunk is what a naive client reads of a tool-call chunk.
type minimalToolChunk struct {
	Choices []struct {
		Delta struct {
			ToolCalls []struct {
				Index    int `json:"index"`
				Function struct {
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
	} `json:"choices"`
}

// toolBaseline: net/http + bufio.Scanner + encoding/json into
// minimalToolChunk, concatenating the arguments of call 0.
func toolBaseline(tb testing.TB, c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 32<<20)
	var args strings.Builder
	for sc.Scan() {
		line, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(line, []byte("[DONE]")) {
			break
		}
		var m minimalToolChunk
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatal(err)
		}
		for _, ch := range m.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				args.WriteString(tc.Function.Arguments)
			}
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return args.Len()
}

// toolSDK reads the stream through NewStream and the accumulator.
func toolSDK(tb testing.TB, c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	s := NewStream[gen.ChatCompletionChunk](resp)
	var acc ChatCompletionAccumulator
	n := 0
	for s.Next() {
		acc.AddChunk(s.Current())
		for _, call := range acc.JustFinishedToolCalls() {
			n += len(call.Arguments)
		}
	}
	if err := s.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkToolStream streams a tool call's argument fragments into the
// accumulator, against the minimal baseline, alternating in the same run.
func BenchmarkToolStream(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			srv := bodyServer(b, toolStreamBody(n))
			c := srv.Client()
			if toolBaseline(b, c, srv.URL) != toolSDK(b, c, srv.URL) {
				b.Fatal("the SDK and the baseline read different arguments")
			}
			var sdkT, baseT time.Duration
			var sdkA, baseA uint64
			b.ResetTimer()
			for b.Loop() {
				t, a := measure(func() { toolBaseline(b, c, srv.URL) })
				baseT, baseA = baseT+t, baseA+a
				t, a = measure(func() { toolSDK(b, c, srv.URL) })
				sdkT, sdkA = sdkT+t, sdkA+a
			}
			chunks := float64(b.N * n)
			b.ReportMetric(float64(sdkT.Nanoseconds())/chunks, "sdk-ns/chunk")
			b.ReportMetric(float64(baseT.Nanoseconds())/chunks, "base-ns/chunk")
			b.ReportMetric(float64(sdkA)/chunks, "sdk-allocs/chunk")
			b.ReportMetric(float64(baseA)/chunks, "base-allocs/chunk")
			b.ReportMetric(float64(sdkT)/float64(baseT), "time-ratio")
			b.ReportMetric(float64(sdkA)/float64(baseA), "allocs-ratio")
		})
	}
}
