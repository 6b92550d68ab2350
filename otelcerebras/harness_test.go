package otelcerebras

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// step is how far the test clock moves at each reading.
const step = 100 * time.Millisecond

// clock is a time source that moves by step each time it is read, so that
// the durations an operation records count the readings between its start
// and its end, whatever the machine's speed.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(step)
	return c.t
}

// harness is a fake API, a client whose Observer records into an
// in-memory span recorder and a manual metric reader, on a test clock.
type harness struct {
	fake    *cerebrastest.Server
	c       *client.Client
	obs     *Observer
	spans   *tracetest.SpanRecorder
	metrics *sdkmetric.ManualReader
}

// newHarness starts the fake (with fakeOpts) and a client with the
// Observer (with opts) and clientOpts.
func newHarness(t *testing.T, opts []Option, fakeOpts []cerebrastest.Option, clientOpts ...client.Option) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader()}
	h.fake = cerebrastest.NewServer(t, fakeOpts...)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.metrics))
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	all := append([]Option{WithTracerProvider(tp), WithMeterProvider(mp), WithGeneration(Generation1), withClock(clk.now)}, opts...)
	h.obs = New(all...)
	base := []client.Option{client.WithAPIKey("test"), client.WithBaseURL(h.fake.URL), client.WithoutEnvironment(),
		client.WithTCPWarming(false), client.WithObserver(h.obs)}
	c, err := client.New(append(base, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h.c = c
	return h
}

// withClock sets the Observer's time source.
func withClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// spanLines returns one line a span, in the order they started: its name,
// kind, parent's name, status, sorted attributes and events. It fails the
// test when a span started but did not end.
func (h *harness) spanLines(t *testing.T) []string {
	t.Helper()
	ended := h.spans.Ended()
	if started := len(h.spans.Started()); started != len(ended) {
		t.Errorf("%d spans started, %d ended", started, len(ended))
	}
	slices.SortStableFunc(ended, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	names := map[string]string{}
	for _, s := range ended {
		names[s.SpanContext().SpanID().String()] = s.Name()
	}
	var lines []string
	for _, s := range ended {
		parent := "-"
		if p := s.Parent(); p.IsValid() {
			parent = names[p.SpanID().String()]
			if parent == "" {
				parent = "?"
			}
			if p.TraceID() != s.SpanContext().TraceID() {
				parent += " (another trace)"
			}
		}
		line := fmt.Sprintf("%s [%s] in %s", s.Name(), s.SpanKind(), parent)
		if st := s.Status(); st.Code.String() != "Unset" {
			line += fmt.Sprintf(" status=%s(%s)", st.Code, st.Description)
		}
		line += " " + attrString(s.Attributes())
		for _, ev := range s.Events() {
			line += fmt.Sprintf(" event %s %s", ev.Name, attrString(ev.Attributes))
		}
		lines = append(lines, h.portless(line))
	}
	return lines
}

// loopbackPort matches a loopback address with a port, which changes
// from run to run.
var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// portless replaces the fake's port, and the ports of loopback addresses
// an error quotes, with PORT.
func (h *harness) portless(s string) string {
	port := h.fake.URL[strings.LastIndexByte(h.fake.URL, ':')+1:]
	s = strings.ReplaceAll(s, "server.port="+port, "server.port=PORT")
	return loopbackPort.ReplaceAllString(s, "127.0.0.1:PORT")
}

// attrString prints attributes sorted by key.
func attrString(kvs []attribute.KeyValue) string {
	parts := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		parts = append(parts, fmt.Sprintf("%s=%s", kv.Key, kv.Value.String()))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, " ") + "}"
}

// metricLines returns one line a data point, sorted: the metric's name,
// unit, attributes, and a histogram's count, sum and bounds (when not the
// first seen for its name), or a counter's value.
func (h *harness) metricLines(t *testing.T) []string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s [%s] %s count=%d sum=%g buckets=%s", m.Name, m.Unit, attrString(p.Attributes.ToSlice()), p.Count, p.Sum, bucketName(p.Bounds)))
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s [%s] %s count=%d sum=%d buckets=%s", m.Name, m.Unit, attrString(p.Attributes.ToSlice()), p.Count, p.Sum, bucketName(p.Bounds)))
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s [%s] %s value=%d", m.Name, m.Unit, attrString(p.Attributes.ToSlice()), p.Value))
				}
			default:
				t.Errorf("metric %s: unexpected %T", m.Name, m.Data)
			}
		}
	}
	for i := range lines {
		lines[i] = h.portless(lines[i])
	}
	slices.Sort(lines)
	return lines
}

// bucketName names the bucket boundaries the conventions give.
func bucketName(b []float64) string {
	switch {
	case slices.Equal(b, durationBuckets):
		return "duration"
	case slices.Equal(b, tokenBuckets):
		return "tokens"
	case slices.Equal(b, serverBuckets):
		return "server"
	}
	return fmt.Sprint(b)
}

var update = flag.Bool("update", false, "rewrite the golden files of the spans and metrics recorded")

// golden compares lines with testdata/<test name>.<what>, one line each;
// -update rewrites the file.
func golden(t *testing.T, what string, got []string) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+"."+what)
	text := strings.Join(got, "\n") + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if text != string(want) {
		t.Errorf("%s:\n\t%s\nwant (%s):\n\t%s", what, strings.Join(got, "\n\t"), path,
			strings.ReplaceAll(strings.TrimSuffix(string(want), "\n"), "\n", "\n\t"))
	}
}

// chatParams asks the fake model to say text.
func chatParams(text string) client.ChatCompletionNewParams {
	return client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B, Messages: []client.ChatMessage{client.UserMessage(text)}}
}
