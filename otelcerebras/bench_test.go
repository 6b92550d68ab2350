package otelcerebras

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cerebras-go/cerebras/client"
)

// The benchmarks run one call two ways, alternating in the same run
// against the same local server (a canned answer, so that the server costs
// little and the ratio shows the instrumentation's share of the client's
// own work): plain, a client without an Observer; and otel, a client with
// New's Observer on real SDK providers (spans sampled and batched to an
// exporter that drops them, metrics aggregated by a reader). Each reports
// both sides' time and allocations per call and otel's ratios to plain:
// the median of the iterations' time ratios, which one stall of the shared
// machine cannot move, and the ratio of the allocation totals.

const benchCompletion = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-oss-120b",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"You said: Hello!"},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":4,"completion_tokens":14,"total_tokens":18,"completion_tokens_details":{"reasoning_tokens":11}},` +
	`"time_info":{"queue_time":0.000073161,"prompt_time":0.00107,"completion_time":0.00565,"total_time":0.0222,"created":1}}`

// benchStream is a 17-chunk stream, as the fake's answer to "Hello!".
var benchStream = func() string {
	var b strings.Builder
	chunk := func(delta, finish, extra string) {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-oss-120b","choices":[{"index":0,"delta":{%s}%s}]%s}`+"\n\n", delta, finish, extra)
	}
	chunk(`"role":"assistant"`, "", "")
	for range 13 {
		chunk(`"content":"word "`, "", "")
	}
	chunk(`"content":"Hello!"`, "", "")
	chunk(``, `,"finish_reason":"stop"`, "")
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-oss-120b","choices":[],` +
		`"usage":{"prompt_tokens":4,"completion_tokens":14,"total_tokens":18},"time_info":{"queue_time":0.00007,"prompt_time":0.001,"completion_time":0.005,"total_time":0.02}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.String()
}()

type dropExporter struct{}

func (dropExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropExporter) Shutdown(context.Context) error                             { return nil }

// benchClients returns the plain and the instrumented client of one server.
func benchClients(b *testing.B) [2]*client.Client {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte(benchStream))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(benchCompletion))
	}))
	b.Cleanup(srv.Close)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(dropExporter{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	var cs [2]*client.Client
	for i, extra := range [][]client.Option{nil, {client.WithObserver(New(WithTracerProvider(tp), WithMeterProvider(mp)))}} {
		c, err := client.New(append([]client.Option{client.WithBaseURL(srv.URL), client.WithAPIKey("test"),
			client.WithoutEnvironment(), client.WithTCPWarming(false)}, extra...)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		cs[i] = c
	}
	return cs
}

// benchSides runs call on both clients b.N times, alternating which goes
// first, and reports the times, allocations and ratios.
func benchSides(b *testing.B, call func(c *client.Client) error) {
	cs := benchClients(b)
	for range 20 { // connections up
		for _, c := range cs {
			if err := call(c); err != nil {
				b.Fatal(err)
			}
		}
	}
	var total [2]time.Duration
	var allocs [2]uint64
	ratios := make([]float64, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		var d [2]time.Duration
		for j := range 2 {
			side := (i + j) % 2
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			if err := call(cs[side]); err != nil {
				b.Fatal(err)
			}
			d[side] = time.Since(start)
			runtime.ReadMemStats(&m1)
			allocs[side] += m1.Mallocs - m0.Mallocs
		}
		total[0], total[1] = total[0]+d[0], total[1]+d[1]
		ratios = append(ratios, float64(d[1])/float64(d[0]))
	}
	b.StopTimer()
	slices.Sort(ratios)
	n := float64(b.N)
	b.ReportMetric(float64(total[0].Nanoseconds())/n, "plain-ns/call")
	b.ReportMetric(float64(total[1].Nanoseconds())/n, "otel-ns/call")
	b.ReportMetric(float64(allocs[0])/n, "plain-allocs/call")
	b.ReportMetric(float64(allocs[1])/n, "otel-allocs/call")
	b.ReportMetric(ratios[len(ratios)/2], "otel/plain-time-ratio")
	b.ReportMetric(float64(allocs[1])/float64(allocs[0]), "otel/plain-allocs-ratio")
}

func BenchmarkChat(b *testing.B) {
	p := chatParams("Hello!")
	benchSides(b, func(c *client.Client) error {
		_, err := c.Chat.Completions.New(context.Background(), p)
		return err
	})
}

func BenchmarkStream(b *testing.B) {
	p := chatParams("Hello!")
	benchSides(b, func(c *client.Client) error {
		s, err := c.Chat.Completions.NewStreaming(context.Background(), p)
		if err != nil {
			return err
		}
		n := 0
		for _, err := range s.All() {
			if err != nil {
				return err
			}
			n++
		}
		if n != 17 {
			return fmt.Errorf("%d chunks, want 17", n)
		}
		return nil
	})
}
