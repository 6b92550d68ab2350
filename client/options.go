package client

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Option configures a Client (in New) or a single call (as a trailing
// argument). Call options are applied after the client's, so they win.
//
//	c, err := client.New(client.WithMaxRetries(5))
//	resp, err := c.Chat.Completions.New(ctx, params, client.WithMaxRetries(0))
type Option func(*config) error

// Doer sends an HTTP request; *http.Client is one.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Next sends a request on to the rest of the middleware chain and the
// HTTP client.
type Next func(*http.Request) (*http.Response, error)

// Middleware intercepts every attempt of every request: it may change the
// request, call next, and inspect or replace the response.
type Middleware func(req *http.Request, next Next) (*http.Response, error)

// Defaults.
const (
	DefaultBaseURL        = "https://api.cerebras.ai"
	DefaultMaxRetries     = 2
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxRetryDelay  = 60 * time.Second

	// DefaultStreamIdleTimeout is how long a stream may go without an
	// event (keep-alive comments and pings do not count) before it fails
	// with streaming.ErrIdleTimeout, unless
	// WithStreamIdleTimeout says otherwise. See WithStreamIdleTimeout for
	// why five minutes.
	DefaultStreamIdleTimeout = 5 * time.Minute

	// DefaultMaxResponseSize is the largest response body, after
	// decompression, that a call reads into memory (64 MiB), unless
	// WithMaxResponseSize says otherwise. No completion comes near it: the
	// longest a model can write is a few MiB of JSON.
	DefaultMaxResponseSize int64 = 64 << 20
)

// config is the merged configuration of a client or a call.
type config struct {
	apiKey         string
	authHeader     []string // "Bearer <apiKey>", built once
	timeoutHeader  []string // x-stainless-timeout, built once
	baseURL        string
	httpClient     Doer
	headers        http.Header
	query          url.Values
	extraBody      map[string]any
	middleware     []Middleware
	logger         *slog.Logger
	requestTimeout time.Duration
	maxRetries     int
	maxRetryDelay  time.Duration
	responseInto   **http.Response
	observer       Observer        // observer.go; nil: none
	encoding       RequestEncoding // of chat and text completion bodies (encoding.go)
	ignoreEnv      bool
	tcpWarming     bool
	warmupTimeout  time.Duration // of the TCP warm-up; tests lengthen it
	idleTimeout    time.Duration
	maxEventSize   int
	maxResponse    int64        // largest body read into memory
	headerParams   headerParams // options.gen.go
	// set records the narrow options applied (optionSet); New clears it, so
	// that it holds a call's own.
	set optionSet
	// ownDoer is set when a call's options replaced the client's HTTP client.
	ownDoer bool
	// Rate-limit pacing (pacing.go).
	pacing           bool
	pacingMaxWait    time.Duration
	pacingCompletion int
	// Hedging (hedge.go): the policy, its defaults filled in; nil: off.
	hedge *HedgePolicy
}

// optionSet records the narrow options a call was given: those that apply
// to some operations only. A call refuses one its operation does not take
// (operation.allows), rather than ignoring it; a client option applies each
// only where it can.
type optionSet uint64

// The narrow options written by hand; the header-parameter options
// (options.gen.go) take the bits from optFirstHeader on.
const (
	optExtraBody optionSet = 1 << iota
	optRequestEncoding
	optStreamIdleTimeout
	optMaxEventSize
	optMaxResponseSize
	optRateLimitPacing
	optPacingMaxWait
	optPacingCompletionTokens
	optBaseURL
	optWithoutEnvironment
	optTCPWarming
	optHedging

	optFirstHeader optionSet = 1 << 32

	// optJSONBody are the options of an operation with a JSON request body.
	optJSONBody = optExtraBody
	// optEvents are the options of an event stream.
	optEvents = optStreamIdleTimeout | optMaxEventSize
	// optPaced are the options of rate-limit pacing, which paces chat and
	// text completions.
	optPaced = optRateLimitPacing | optPacingMaxWait | optPacingCompletionTokens
	// optNew are the options only New reads.
	optNew = optBaseURL | optWithoutEnvironment | optTCPWarming
)

// optionNames names the option of each hand-written bit.
var optionNames = map[optionSet]string{
	optExtraBody: "WithExtraBody", optRequestEncoding: "WithRequestEncoding", optStreamIdleTimeout: "WithStreamIdleTimeout",
	optMaxEventSize: "WithMaxEventSize", optMaxResponseSize: "WithMaxResponseSize",
	optRateLimitPacing: "WithRateLimitPacing", optPacingMaxWait: "WithPacingMaxWait",
	optPacingCompletionTokens: "WithPacingCompletionTokens", optBaseURL: "WithBaseURL",
	optWithoutEnvironment: "WithoutEnvironment", optTCPWarming: "WithTCPWarming",
	optHedging: "WithHedging",
}

// first returns the lowest option of s and its name.
func (s optionSet) first() (optionSet, string) {
	bit := s & -s
	if n, ok := optionNames[bit]; ok {
		return bit, n
	}
	return bit, headerOptionNames[bit]
}

func defaultConfig() config {
	return config{
		maxRetries:     DefaultMaxRetries,
		requestTimeout: DefaultRequestTimeout,
		timeoutHeader:  timeoutHeader(DefaultRequestTimeout),
		maxRetryDelay:  DefaultMaxRetryDelay,
		idleTimeout:    DefaultStreamIdleTimeout,
		maxResponse:    DefaultMaxResponseSize,
		tcpWarming:     true,
		warmupTimeout:  warmupTimeout,
		pacingMaxWait:  DefaultPacingMaxWait,
		encoding:       DefaultRequestEncoding,
	}
}

// clone returns a copy whose maps and slices can be changed independently.
func (c *config) clone() config {
	n := *c
	n.headers = c.headers.Clone()
	n.query = maps.Clone(c.query)
	n.extraBody = maps.Clone(c.extraBody)
	n.middleware = c.middleware[:len(c.middleware):len(c.middleware)]
	return n
}

func (c *config) apply(opts []Option) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return err
		}
	}
	return nil
}

// WithAPIKey sets the API key, sent as `Authorization: Bearer <key>`. It
// overrides CEREBRAS_API_KEY. An empty key is an error: in New when the
// environment has none either, and in a call before anything is sent.
func WithAPIKey(key string) Option {
	return func(c *config) error {
		key = strings.TrimSpace(key)
		if err := checkHeaderValue("WithAPIKey", "API key", key); err != nil {
			return err
		}
		c.apiKey = key
		c.authHeader = []string{"Bearer " + key}
		return nil
	}
}

// WithBaseURL sets the API's base URL, such as "https://api.cerebras.ai"
// (the default) or a test server's URL. The SDK adds /v1 to every path, so
// one trailing /v1 is dropped: "https://api.cerebras.ai/v1", the form
// OpenAI-compatible clients use, is the same base. It overrides
// CEREBRAS_BASE_URL, which is read the same way. It is a client option: a
// call given another base URL fails with a *ParamError before sending.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		u, err := normalizeBaseURL(base)
		if err != nil {
			return err
		}
		c.set |= optBaseURL
		c.baseURL = u
		return nil
	}
}

// normalizeBaseURL checks a base URL and drops its trailing slashes and one
// trailing /v1 segment, the version prefix every operation path already has.
func normalizeBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", paramError("WithBaseURL", "invalid base URL %q: want http(s)://host[/path]", redactURL(base))
	}
	trim := func(p string) string {
		p = strings.TrimSuffix(strings.TrimRight(p, "/"), "/v1")
		return strings.TrimRight(p, "/")
	}
	u.Path, u.RawPath = trim(u.Path), trim(u.RawPath)
	return u.String(), nil
}

// WithHTTPClient sets the HTTP client (any Doer, such as *http.Client). The
// default reuses connections, dials with a 5 s timeout and never puts a
// whole-request timeout on streams.
//
// The API key and request bodies are only sent to the base URL's scheme,
// host and port, so a redirect anywhere else fails with a *RedirectError.
// The SDK's own client and an *http.Client enforce this: the SDK uses a
// shallow copy of an *http.Client, whose CheckRedirect, if any, still
// decides the redirects within the origin. Any other Doer must not follow
// redirects to another origin itself.
func WithHTTPClient(d Doer) Option {
	return func(c *config) error {
		if isNil(d) {
			arg := "nil"
			if d != nil {
				arg = fmt.Sprintf("(%T)(nil)", d)
			}
			return paramError("WithHTTPClient", "WithHTTPClient(%s): the HTTP client is nil; leave the option out to use the default client", arg)
		}
		c.httpClient = d
		c.ownDoer = true
		return nil
	}
}

// isNil reports whether d is nil or holds a nil pointer, func, map, slice
// or channel, such as (*http.Client)(nil), whose Do would dereference nil
// on the first request.
func isNil(d Doer) bool {
	if d == nil {
		return true
	}
	switch v := reflect.ValueOf(d); v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// WithHeader sets a request header, replacing any value it had, including
// the SDK's own: WithHeader("Authorization", …) replaces the API key's
// `Bearer` header (for a gateway with another scheme; only the API key is
// redacted from errors). A value with CR or LF, or an invalid name, is an
// error.
func WithHeader(name, value string) Option {
	return func(c *config) error {
		if !validHeaderName(name) {
			return paramError("WithHeader", "invalid header name %q", name)
		}
		if err := checkHeaderValue("WithHeader", "header "+name, value); err != nil {
			return err
		}
		if c.headers == nil {
			c.headers = http.Header{}
		}
		c.headers.Set(name, value)
		return nil
	}
}

// WithoutHeader removes a header the SDK would send, such as
// X-Stainless-Retry-Count.
func WithoutHeader(name string) Option {
	return func(c *config) error {
		if c.headers == nil {
			c.headers = http.Header{}
		}
		c.headers[http.CanonicalHeaderKey(name)] = nil
		return nil
	}
}

// checkHeaderValue refuses a header value with a control character; option
// names the option in the error, what the value.
func checkHeaderValue(option, what, v string) error {
	if !validHeaderValue(v) {
		return paramError(option, "%s contains a control character such as CR or LF", what)
	}
	return nil
}

// WithQuery adds a query parameter to the request URL.
func WithQuery(key, value string) Option {
	return func(c *config) error {
		if c.query == nil {
			c.query = url.Values{}
		}
		c.query.Add(key, value)
		return nil
	}
}

// WithExtraBody merges extra top-level fields into the JSON request body
// (chat, completions, Batches.New), for parameters this SDK version does not
// know yet. Its fields win over the typed ones. A file upload is multipart,
// not JSON: Files.New leaves it out.
func WithExtraBody(fields map[string]any) Option {
	return func(c *config) error {
		c.set |= optExtraBody
		if c.extraBody == nil {
			c.extraBody = map[string]any{}
		}
		maps.Copy(c.extraBody, fields)
		return nil
	}
}

// WithMiddleware appends middleware, which runs on every attempt: client
// middleware before call middleware, each in the order given. A request
// that middleware points at another origin (scheme, host or port) than the
// base URL's is sent without the API key.
func WithMiddleware(m ...Middleware) Option {
	return func(c *config) error {
		for i, mw := range m {
			if mw == nil {
				return paramError("WithMiddleware", "WithMiddleware: middleware %d is nil", i)
			}
		}
		c.middleware = append(c.middleware, m...)
		return nil
	}
}

// WithLogger logs every attempt at debug level: method, URL path, status,
// attempt number, duration and retry delays. It never logs the API key,
// headers or bodies.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithRequestTimeout bounds each attempt (default 60 s): the whole attempt
// for ordinary calls, and until the response headers for streaming calls
// (see WithStreamIdleTimeout for the rest of a stream). Zero disables it.
// The context's deadline, if any, bounds all attempts together.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return paramError("WithRequestTimeout", "negative request timeout %s", d)
		}
		c.setRequestTimeout(d)
		return nil
	}
}

// setRequestTimeout sets the per-attempt timeout and the
// x-stainless-timeout header that announces it, which must always agree.
func (c *config) setRequestTimeout(d time.Duration) {
	c.requestTimeout = d
	c.timeoutHeader = timeoutHeader(d)
}

// WithMaxRetries sets how many times a failed attempt is retried (default 2;
// 0 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return paramError("WithMaxRetries", "negative max retries %d", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithMaxRetryDelay caps the delay a server may ask for with retry-after
// (default 60 s). When it asks for more, the SDK does not wait: it returns
// the error, whose RetryAfter says how long the server wanted.
func WithMaxRetryDelay(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return paramError("WithMaxRetryDelay", "negative max retry delay %s", d)
		}
		c.maxRetryDelay = d
		return nil
	}
}

// WithResponseInto stores the final HTTP response in *dst, also when the call
// fails with an API error. For ordinary calls its body can be read again.
func WithResponseInto(dst **http.Response) Option {
	return func(c *config) error {
		c.responseInto = dst
		return nil
	}
}

// WithoutEnvironment ignores CEREBRAS_API_KEY, CEREBRAS_BASE_URL and
// CEREBRAS_CUSTOM_HEADERS. It only has an effect in New.
func WithoutEnvironment() Option {
	return func(c *config) error {
		c.set |= optWithoutEnvironment
		c.ignoreEnv = true
		return nil
	}
}

// WithTCPWarming turns the best-effort connection warm-up that New starts
// (GET /v1/tcp_warming, on by default) on or off. It only has an effect in New.
func WithTCPWarming(on bool) Option {
	return func(c *config) error {
		c.set |= optTCPWarming
		c.tcpWarming = on
		return nil
	}
}

// WithStreamIdleTimeout fails a stream with streaming.ErrIdleTimeout when
// no event arrives for d, so that a server or a connection that goes silent
// after the headers, or sends only keep-alive comments, blank lines or
// data-less pings, cannot block a stream forever. The caller's own pauses
// between reads do not count. The default is
// DefaultStreamIdleTimeout, five minutes: the request timeout covers the
// wait for the headers, and after them the API sends every token as it is
// generated, so a silence of minutes means a dead stream. It is still far
// longer than any pause a working stream has: a slow queue, a reasoning
// model thinking with reasoning_format "hidden" (which streams nothing
// until the answer), a proxy that buffers. Zero turns the timeout off,
// leaving only the context to end a silent stream.
func WithStreamIdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return paramError("WithStreamIdleTimeout", "negative stream idle timeout %s", d)
		}
		c.set |= optStreamIdleTimeout
		c.idleTimeout = d
		return nil
	}
}

// WithMaxEventSize sets the largest server-sent event a stream accepts
// (default 32 MiB).
func WithMaxEventSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return paramError("WithMaxEventSize", "max event size %d must be positive", n)
		}
		c.set |= optMaxEventSize
		c.maxEventSize = n
		return nil
	}
}

// WithMaxResponseSize sets the largest response body, in bytes after
// decompression, that a call reads into memory (default
// DefaultMaxResponseSize, 64 MiB). A successful response with a longer body
// fails the call with a *ResponseTooLargeError (errors.Is(err,
// ErrResponseTooLarge)), without retrying; an error response's body is cut
// to the limit instead, keeping its status. Streams are bounded per event
// by WithMaxEventSize, not by this. n must be positive; math.MaxInt64
// means no limit.
func WithMaxResponseSize(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return paramError("WithMaxResponseSize", "max response size %d must be positive", n)
		}
		c.set |= optMaxResponseSize
		c.maxResponse = n
		return nil
	}
}

// timeoutHeader is the x-stainless-timeout value: whole seconds, or none.
func timeoutHeader(d time.Duration) []string {
	if d <= 0 {
		return nil
	}
	return []string{strconv.Itoa(int(d / time.Second))}
}

// parseCustomHeaders reads CEREBRAS_CUSTOM_HEADERS: "Name: value" lines. It
// refuses Authorization: a variable inherited from a shell or a CI job must
// not silently replace the API key (WithHeader, in code, may).
func parseCustomHeaders(s string) (http.Header, error) {
	h := http.Header{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) || !validHeaderValue(value) {
			return nil, paramError("CEREBRAS_CUSTOM_HEADERS", "CEREBRAS_CUSTOM_HEADERS line %d is not a valid \"Name: value\" header", i+1)
		}
		if http.CanonicalHeaderKey(name) == "Authorization" {
			return nil, paramError("CEREBRAS_CUSTOM_HEADERS", "CEREBRAS_CUSTOM_HEADERS line %d sets Authorization, which would replace the API key: set CEREBRAS_API_KEY or use client.WithAPIKey", i+1)
		}
		h.Add(name, value)
	}
	return h, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters (CR and LF above all), which
// would let a value inject headers.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
