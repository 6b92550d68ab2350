package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
	"github.com/cerebras-go/cerebras/internal/decode"
	"github.com/cerebras-go/cerebras/internal/decodedsize"
)

// The operations this file's methods send (operation.go).
var (
	opTCPWarming = &operation{id: "tcpWarming", method: "New (the TCP warm-up)"}
)

// Version is the SDK version, sent in the User-Agent header.
const Version = "0.1.0"

// Client is a Cerebras Inference API client. It is safe for concurrent use;
// create one and reuse it, so connections are reused.
type Client struct {
	// Chat holds the chat endpoints: Chat.Completions.
	Chat ChatService
	// Completions is the text completions endpoint.
	Completions *CompletionService
	// Models lists and retrieves models.
	Models *ModelService
	// Files uploads, lists, downloads and deletes files (Private Preview:
	// access on request).
	Files *FileService
	// Batches creates, lists, cancels and waits for batches (Private
	// Preview: access on request).
	Batches *BatchService

	cfg           config
	server        string    // the base URL with a trailing slash, as the generated request builders take it
	chat          *endpoint // POST /v1/chat/completions, without header parameters
	completion    *endpoint // POST /v1/completions, without header parameters
	staticHeaders http.Header
	jitter        func() float64
	sleep         func(context.Context, time.Duration) error
	do            Next // cfg.httpClient.Do, bound once
	ownsHTTP      *http.Client
	base          *url.URL // cfg.baseURL, the only origin the API key is sent to
	pacer         pacer    // rate-limit state, used only by paced calls
	// hedges holds the observed times to first event of hedged calls,
	// for learned hedge delays (hedge.go).
	hedges hedgeStats

	warmCancel context.CancelFunc
	warmDone   chan struct{}
	closeOnce  sync.Once
}

// New returns a client. The API key comes from WithAPIKey or the
// CEREBRAS_API_KEY environment variable, the base URL from WithBaseURL,
// CEREBRAS_BASE_URL or DefaultBaseURL, and extra headers from
// CEREBRAS_CUSTOM_HEADERS ("Name: value" lines, never Authorization);
// WithoutEnvironment ignores the environment.
//
// New also sends one request of its own, as the official Python and
// TypeScript SDKs do: GET <base URL>/v1/tcp_warming, with the API key, the
// client's headers and middleware, so the first real call finds a connection
// open. It runs in the background and never blocks New; it gets 1 s and no
// retries, a failure is only logged (WithLogger), and Close cancels it.
// WithTCPWarming(false) turns it off, for example where every request is
// recorded or counted.
func New(opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	if !cfg.ignoreEnv {
		if err := cfg.applyEnv(); err != nil {
			return nil, err
		}
	}
	cfg.set = 0 // a client option applies where it can: set records a call's own
	if cfg.apiKey == "" {
		return nil, paramError("WithAPIKey", "no API key: set the CEREBRAS_API_KEY environment variable or use client.WithAPIKey")
	}
	if cfg.baseURL == "" {
		cfg.baseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.baseURL)
	if err != nil { // WithBaseURL checked it
		return nil, errors.New("cerebras: the base URL does not parse")
	}
	c := &Client{cfg: cfg, base: base, jitter: defaultJitter, sleep: sleep, staticHeaders: staticHeaders()}
	if c.cfg.httpClient == nil {
		c.ownsHTTP = defaultHTTPClient()
		c.cfg.httpClient = c.ownsHTTP
	} else {
		c.cfg.httpClient = guardRedirects(c.cfg.httpClient)
	}
	c.do = c.cfg.httpClient.Do
	c.cfg.ownDoer = false // calls that set their own HTTP client set it again
	c.server = strings.TrimSuffix(c.cfg.baseURL, "/") + "/"
	if c.chat, err = newEndpoint(gen.NewCreateChatCompletionRequestWithBody(c.server, nil, jsonContent, nil)); err != nil {
		return nil, fmt.Errorf("cerebras: %w", err)
	}
	if c.completion, err = newEndpoint(gen.NewCreateCompletionRequestWithBody(c.server, nil, jsonContent, nil)); err != nil {
		return nil, fmt.Errorf("cerebras: %w", err)
	}
	c.Chat = ChatService{Completions: &ChatCompletionService{c: c}}
	c.Completions = &CompletionService{c: c}
	c.Models = &ModelService{c: c}
	c.Files = &FileService{c: c}
	c.Batches = &BatchService{c: c}
	if c.cfg.tcpWarming {
		c.warm()
	}
	return c, nil
}

// applyEnv fills what the options left unset from the environment.
func (c *config) applyEnv() error {
	if c.apiKey == "" {
		if err := WithAPIKey(os.Getenv("CEREBRAS_API_KEY"))(c); err != nil {
			return fmt.Errorf("%w (from CEREBRAS_API_KEY)", err)
		}
	}
	if c.baseURL == "" {
		if v := strings.TrimSpace(os.Getenv("CEREBRAS_BASE_URL")); v != "" {
			if err := WithBaseURL(v)(c); err != nil {
				return fmt.Errorf("%w (from CEREBRAS_BASE_URL)", err)
			}
		}
	}
	if v := os.Getenv("CEREBRAS_CUSTOM_HEADERS"); v != "" {
		h, err := parseCustomHeaders(v)
		if err != nil {
			return err
		}
		for k, vs := range h {
			if _, set := c.headers[k]; !set {
				if c.headers == nil {
					c.headers = http.Header{}
				}
				c.headers[k] = vs
			}
		}
	}
	return nil
}

// defaultHTTPClient reuses connections, bounds dialing (5 s) and waiting for
// response headers, has no whole-request timeout, which would cut long
// streams off, and follows redirects only within the request's origin.
func defaultHTTPClient() *http.Client {
	var tr *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = dt.Clone()
	} else {
		tr = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 10 * time.Minute
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect(nil)}
}

// staticHeaders are sent with every request.
func staticHeaders() http.Header {
	return http.Header{
		"User-Agent":                  {fmt.Sprintf("cerebras-go/%s (%s; %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)},
		"X-Stainless-Lang":            {"go"},
		"X-Stainless-Package-Version": {Version},
		"X-Stainless-Os":              {stainlessOS()},
		"X-Stainless-Arch":            {stainlessArch()},
		"X-Stainless-Runtime":         {"go"},
		"X-Stainless-Runtime-Version": {runtime.Version()},
	}
}

func stainlessOS() string {
	switch runtime.GOOS {
	case "darwin":
		return "MacOS"
	case "linux":
		return "Linux"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	case "openbsd":
		return "OpenBSD"
	case "android":
		return "Android"
	case "ios":
		return "iOS"
	}
	return "Other:" + runtime.GOOS
}

func stainlessArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "x32"
	case "arm64":
		return "arm64"
	case "arm":
		return "arm"
	}
	return "other:" + runtime.GOARCH
}

// warmupTimeout bounds the TCP warm-up request.
const warmupTimeout = time.Second

// warm sends GET /v1/tcp_warming once, in the background: 1 s timeout, no
// retries, errors only logged.
func (c *Client) warm() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.warmupTimeout)
	c.warmCancel = cancel
	c.warmDone = make(chan struct{})
	go func() {
		defer close(c.warmDone)
		defer cancel()
		cl := &call{cfg: c.cfg.clone(), op: opTCPWarming}
		cl.cfg.maxRetries = 0
		cl.cfg.setRequestTimeout(c.cfg.warmupTimeout)
		resp, err := c.sendBuilt(ctx, cl, func(server string) (*http.Request, error) { return gen.NewTCPWarmingRequest(server) })
		if err != nil {
			c.log(&cl.cfg, "cerebras: TCP warming failed", slog.String("error", err.Error()))
			return
		}
		_ = resp.Body.Close()
	}()
}

// Close stops the background warm-up, if still running, and closes the idle
// connections of the SDK's own HTTP client. The client must not be used
// afterwards. Calling Close is optional: a client holds no other resources.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		if c.warmCancel != nil {
			c.warmCancel()
			<-c.warmDone
		}
		if c.ownsHTTP != nil {
			c.ownsHTTP.CloseIdleConnections()
		}
	})
	return nil
}

// newCall validates the context and merges the call's options over the
// client's: it refuses an option op does not take (a *ParamError naming
// both) and, like New, an empty API key, which a call's WithAPIKey("")
// would set.
func (c *Client) newCall(ctx context.Context, op *operation, opts []Option) (*call, error) {
	if ctx == nil {
		return nil, paramError("ctx", "nil Context")
	}
	cl := &call{cfg: c.cfg, op: op, stream: op.read != readBody}
	if len(opts) > 0 {
		cl.cfg = c.cfg.clone()
		if err := cl.cfg.apply(opts); err != nil {
			return nil, err
		}
		if err := op.refuse(cl.cfg.set); err != nil {
			return nil, err
		}
		if cl.cfg.apiKey == "" { // New guarantees a key, so a call's option removed it
			return nil, paramError("WithAPIKey", "empty API key: a call's WithAPIKey needs a key; leave the option out to use the client's")
		}
		if cl.cfg.ownDoer {
			cl.cfg.httpClient = guardRedirects(cl.cfg.httpClient)
		}
	}
	return cl, nil
}

// sendBuilt sends a request that a generated request builder makes on the
// client's base URL: the first attempt sends it, later ones a clone.
func (c *Client) sendBuilt(ctx context.Context, cl *call, build func(server string) (*http.Request, error)) (*http.Response, error) {
	req, err := build(c.server)
	if err != nil {
		return nil, fmt.Errorf("cerebras: %s: building the request: %w", cl.op.method, err)
	}
	return c.send(ctx, cl, &outgoing{built: req, url: *req.URL})
}

// get runs an operation without a request body, built by build, and
// decodes its response into a T.
func get[T any](c *Client, ctx context.Context, op *operation, opts []Option, build func(cfg *config, server string) (*http.Request, error)) (*T, error) {
	cl, err := c.newCall(ctx, op, opts)
	if err != nil {
		return nil, err
	}
	ctx = c.observe(ctx, cl, nil)
	resp, err := c.sendBuilt(ctx, cl, func(server string) (*http.Request, error) { return build(&cl.cfg, server) })
	return finish[T](cl, resp, err)
}

// jsonContent is the Content-Type of every request body.
const jsonContent = "application/json"

// post runs the steps every call with a body shares: merge the call's
// options, encode params, and send them to the endpoint that ep returns for
// the call's configuration. cl is nil when the call failed before sending.
func (c *Client) post(ctx context.Context, op *operation, opts []Option, params any,
	ep func(*config) (*endpoint, error)) (cl *call, resp *http.Response, err error) {
	cl, err = c.newCall(ctx, op, opts)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.body(cl, params)
	if err != nil {
		return nil, nil, err
	}
	ctx = c.observe(ctx, cl, params)
	e, err := ep(&cl.cfg)
	if err != nil {
		return cl, nil, err
	}
	if cl.cfg.pacing {
		if cl.pace, err = c.pacer.reserve(ctx, &cl.cfg, params, p.size); err != nil {
			return cl, nil, err
		}
	}
	c.startHedging(cl, params)
	resp, err = c.send(ctx, cl, &outgoing{ep: e.withEncoding(p.enc), body: p.body})
	return cl, resp, err
}

// body encodes a request body: JSON, with extra fields merged in, then in
// the call's request encoding (encoding.go).
func (c *Client) body(cl *call, v any) (payload, error) {
	cfg := &cl.cfg
	b, err := json.Marshal(v)
	if err != nil { // such as a NaN or infinite number
		return payload{}, &ParamError{Param: "params", Message: "encoding the request: " + err.Error(), Err: err}
	}
	if len(cfg.extraBody) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return payload{}, &ParamError{Param: "WithExtraBody", Message: "merging extra body fields: " + err.Error(), Err: err}
		}
		for k, v := range cfg.extraBody {
			raw, err := json.Marshal(v)
			if err != nil {
				return payload{}, &ParamError{Param: "WithExtraBody", Message: fmt.Sprintf("encoding extra body field %q: %v", k, err), Err: err}
			}
			m[k] = raw
		}
		if b, err = json.Marshal(m); err != nil {
			return payload{}, fmt.Errorf("cerebras: encoding the request: %w", err)
		}
	}
	return encode(cl, b)
}

// finish turns the response of an ordinary call into a decoded value or an
// error: an *APIError for an error status, a *ResponseError for an empty or
// malformed success body, or one that is not a JSON object, and a
// *ResponseTooLargeError (Decoded) for a body that would take more memory
// decoded than its size allows, which decode.Response measures first.
func finish[T any](cl *call, resp *http.Response, err error) (*T, error) {
	v, err := decodeResult[T](cl, resp, err)
	if cl.obs != nil {
		o := Outcome{Err: err}
		if err == nil {
			o.Result = v
		}
		cl.end(o)
	}
	return v, err
}

// decodeResult is finish without the observer.
func decodeResult[T any](cl *call, resp *http.Response, err error) (*T, error) {
	if err != nil {
		return nil, redactErr(err, cl.cfg.apiKey)
	}
	if cl.cfg.responseInto != nil {
		*cl.cfg.responseInto = resp
	}
	if resp.StatusCode >= 400 {
		return nil, apiError(cl, resp)
	}
	body, partial := bodyBytes(resp)
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &ResponseError{StatusCode: resp.StatusCode}
	}
	// Every response type is an object; null would decode into an empty
	// value without error, and unions accept any JSON.
	if trimmed[0] != '{' {
		return nil, responseError(cl, resp.StatusCode, body, partial, errNotObject)
	}
	v := new(T)
	if err := decode.Response(body, v); err != nil {
		var big *decodedsize.Error
		if errors.As(err, &big) {
			return nil, &ResponseTooLargeError{StatusCode: resp.StatusCode, Limit: int64(big.Limit), Decoded: true}
		}
		return nil, responseError(cl, resp.StatusCode, body, partial, err)
	}
	if noChoices(v) {
		return nil, responseError(cl, resp.StatusCode, body, partial, errNoChoices)
	}
	return v, nil
}

// errNoChoices is the ResponseError cause for a completion without choices.
var errNoChoices = errors.New("a completion without choices")

// noChoices reports a chat or text completion without a choice: the API
// always sends at least one, so resp.Choices[0] is safe on what New returns.
func noChoices(v any) bool {
	switch c := v.(type) {
	case *gen.ChatCompletion:
		return len(c.Choices) == 0
	case *gen.Completion:
		return len(c.Choices) == 0
	}
	return false
}

// errNotObject is the ResponseError cause for a body that is JSON but not
// an object, or not JSON.
var errNotObject = errors.New("expected a JSON object")

// apiError builds the *APIError of an error status from its buffered body.
func apiError(cl *call, resp *http.Response) error {
	body, truncated := bodyBytes(resp)
	e := apierror.FromResponse(resp, body, truncated, cl.cfg.apiKey)
	e.Redact(cl.cfg.apiKey)
	if cl.notReplayed {
		return &NotReplayedError{Err: e}
	}
	return e
}
