package otelcerebras

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/cerebras-go/cerebras/otelcerebras"

// Generation is a generation of the GenAI semantic conventions.
type Generation int

// The generations this package emits.
const (
	// Generation1 is the conventions up to semconv v1.41.0, which most
	// back ends ingest today: the default.
	Generation1 Generation = 1
	// Generation2 is semantic-conventions-genai v0.1.0: its span
	// attributes are added to Generation 1's, and its metrics
	// (gen_ai.client.inference.*) replace Generation 1's, as the
	// conventions' transition plan says.
	Generation2 Generation = 2
)

// OptInEnv is the environment variable that selects Generation2 when its
// comma-separated list holds OptInValue, as the conventions' transition
// plan says; WithGeneration overrides it.
const (
	OptInEnv   = "OTEL_SEMCONV_STABILITY_OPT_IN"
	OptInValue = "gen_ai_latest_experimental"
)

// Option configures New.
type Option func(*config)

type config struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	capture int
	gen     Generation
	now     func() time.Time
}

// WithTracerProvider sets the TracerProvider the spans go to; by default
// (or given nil) the global one, otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets the MeterProvider the metrics go to; by default
// (or given nil) the global one, otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithContentCapture records what is said: a request's messages
// (gen_ai.input.messages), the model's answer (gen_ai.output.messages) and
// a tool call's arguments and result. It is off by default, since a
// conversation may hold personal data. Each attribute holds at most
// maxBytes bytes of text (DefaultMaxContentBytes for maxBytes ≤ 0); a text
// cut there ends in "…[truncated]". Key-shaped values ("csk-…") are
// replaced by "[REDACTED]" before the cut.
func WithContentCapture(maxBytes int) Option {
	return func(c *config) {
		if maxBytes <= 0 {
			maxBytes = DefaultMaxContentBytes
		}
		c.capture = maxBytes
	}
}

// WithGeneration sets the generation of the conventions emitted,
// overriding OptInEnv. A value that is neither Generation1 nor Generation2
// leaves the environment's choice.
func WithGeneration(g Generation) Option {
	return func(c *config) {
		if g == Generation1 || g == Generation2 {
			c.gen = g
		}
	}
}

// GenerationFromEnv returns the generation OptInEnv selects: Generation2
// when its list holds OptInValue, Generation1 otherwise.
func GenerationFromEnv() Generation {
	for _, v := range strings.Split(os.Getenv(OptInEnv), ",") {
		if strings.TrimSpace(v) == OptInValue {
			return Generation2
		}
	}
	return Generation1
}

// Observer is a client.Observer that records OpenTelemetry spans and
// metrics of the operations it sees, by the GenAI semantic conventions.
// Make one with New and give it to a client (client.WithObserver), a tool
// runner (toolrunner.Runner.Observer) or a bulk run
// (batchfile.RunParams.Observer). It is safe for concurrent use.
type Observer struct {
	tracer  trace.Tracer
	gen     Generation
	capture int
	now     func() time.Time
	m       *instruments
	server  atomic.Pointer[serverAddr] // the last base URL parsed
}

// New returns an Observer that records spans and metrics with the
// providers its options give (by default the global ones).
//
//	c, err := client.New(client.WithObserver(otelcerebras.New()))
func New(opts ...Option) *Observer {
	cfg := config{gen: GenerationFromEnv(), now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	o := &Observer{tracer: cfg.tp.Tracer(ScopeName), gen: cfg.gen, capture: cfg.capture, now: cfg.now}
	o.m = newInstruments(cfg.mp.Meter(ScopeName), cfg.gen)
	return o
}

// Start starts the span of an operation and returns the context that
// carries it, so that the operations it starts are its children.
func (o *Observer) Start(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	if ctx == nil {
		ctx = context.Background()
	}
	switch op.Method {
	case "Chat.Completions.New", "Chat.Completions.NewStreaming":
		return o.startInference(ctx, op, opChat)
	case "Completions.New", "Completions.NewStreaming":
		return o.startInference(ctx, op, opTextCompletion)
	case toolrunner.MethodRun:
		return o.startAgent(ctx, op)
	case toolrunner.MethodTool:
		return o.startTool(ctx, op)
	case batchfile.MethodRunLocal:
		return o.startBulk(ctx, op)
	}
	return o.startPlain(ctx, op)
}

// serverAddr is a base URL's server.address and server.port.
type serverAddr struct {
	base string
	host string
	port int
}

// serverOf returns the address of a base URL, parsing it only when it is
// not the one parsed last.
func (o *Observer) serverOf(base string) *serverAddr {
	if base == "" {
		return nil
	}
	if s := o.server.Load(); s != nil && s.base == base {
		return s
	}
	s := &serverAddr{base: base}
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		s.host = redact(u.Hostname())
		if p, err := strconv.Atoi(u.Port()); err == nil {
			s.port = p
		} else if u.Scheme == "http" {
			s.port = 80
		} else {
			s.port = 443
		}
	} else {
		return nil
	}
	o.server.Store(s)
	return s
}

// serverAttrs appends server.address and server.port.
func serverAttrs(attrs []attribute.KeyValue, s *serverAddr) []attribute.KeyValue {
	if s == nil {
		return attrs
	}
	return append(attrs, keyServerAddress.String(s.host), keyServerPort.Int(s.port))
}

// rateLimitHeaders are the response headers an operation's span reports.
type rateLimitHeaders struct {
	requestsDay, tokensMinute, requestID string
}

// read takes the headers of an attempt's response.
func (h *rateLimitHeaders) read(a client.Attempt) {
	if a.Response == nil {
		return
	}
	hdr := a.Response.Header
	// Canonical keys, read from the map: Get would canonicalise (and
	// allocate) each time.
	h.requestsDay = first(hdr["X-Ratelimit-Remaining-Requests-Day"])
	h.tokensMinute = first(hdr["X-Ratelimit-Remaining-Tokens-Minute"])
	h.requestID = first(hdr["X-Request-Id"])
}

// attrs appends the headers' attributes.
func (h *rateLimitHeaders) attrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	if n, ok := headerInt(h.requestsDay); ok {
		attrs = append(attrs, keyRemainingRequestsDay.Int64(n))
	}
	if n, ok := headerInt(h.tokensMinute); ok {
		attrs = append(attrs, keyRemainingTokensMinute.Int64(n))
	}
	if h.requestID != "" {
		attrs = append(attrs, keyRequestID.String(redact(h.requestID)))
	}
	return attrs
}

// headerInt reads a rate-limit count, which the API may send as a float.
func headerInt(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f > 1<<62 || f < -(1<<62) {
		return 0, false
	}
	return int64(f), true
}

// retryEventOf adds the span event of an attempt that is retried.
func (o *Observer) retryEventOf(span trace.Span, a client.Attempt) {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, keyRetryAttempt.Int(a.Number), keyRetryDelay.Float64(a.RetryDelay.Seconds()))
	if a.Response != nil {
		attrs = append(attrs, keyHTTPResponseStatusCode.Int(a.Response.StatusCode))
	}
	if a.Err != nil {
		attrs = append(attrs, keyErrorType.String(ErrorType(a.Err)))
	}
	span.AddEvent(retryEvent, trace.WithAttributes(attrs...), trace.WithTimestamp(o.now()))
}

// hedgeEventOf adds the span event of a hedge (client.WithHedging): the
// duplicate sent while the first attempt waited, and whether it won.
func (o *Observer) hedgeEventOf(span trace.Span, a client.Attempt) {
	attrs := make([]attribute.KeyValue, 0, 3)
	// The loser is reported with an error; the one the call goes on with
	// won only if it answered with success (it may have met a 429 too).
	won := a.Err == nil && !a.Retry && a.Response != nil && a.Response.StatusCode < 400
	attrs = append(attrs, keyHedgeAttempt.Int(a.Number), keyHedgeWon.Bool(won))
	if a.Err != nil && !errors.Is(a.Err, client.ErrHedgeLost) {
		attrs = append(attrs, keyErrorType.String(ErrorType(a.Err)))
	}
	span.AddEvent(hedgeEvent, trace.WithAttributes(attrs...), trace.WithTimestamp(o.now()))
}

// first is a header's first value, or "".
func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
