// Package cerebrastest runs a fake Cerebras Inference API on 127.0.0.1, like
// net/http/httptest does for handlers: for the SDK's tests, for the demo, and
// for users who test their own code without spending tokens.
//
//	srv := cerebrastest.NewServer(t)
//	c, _ := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"))
//
// Every request is validated against the API's OpenAPI document (embedded in
// this package); an invalid one gets the 422 body the real API sends, naming
// the bad field. Chat and text completion bodies may be JSON or
// MessagePack, plain or gzip-compressed, as the API takes them: the fake
// decodes them before validating, and Request.Encoding says which arrived.
// Valid requests are answered by a small deterministic model
// that echoes the last user message and honours n, stop, token limits,
// logprobs, tools, tool_choice and parallel tool calls (one of each tool the
// last user message names), response formats, reasoning and streaming,
// and by an in-memory file store (/v1/files: uploads checked as the API
// checks them, JSONL only, at most 200 MB; list paging; content; delete;
// kept 7 days on the server's Clock)
// and batches (/v1/batches, Private Preview: a batch moves one step each time
// it is retrieved, validating → in_progress → finalizing → completed, its
// output and error files computed by the model; cancel gives partial results).
//
// The public catalogue (/public/v1/models, and the models list's openrouter
// and huggingface formats) lists gpt-oss-120b, zai-glm-4.7 and gemma-4-31b
// with prices of the fake's own, fixed for tests to compute costs with, per
// million tokens: $0.35 in and $0.75 out; $2.25 in, $2.75 out and $0.5625
// for a cached prompt token; $0.20 in and $0.40 out.
//
// The server's time is a Clock (WithClock; by default one that follows the
// wall clock): timestamps such as a batch's created_at come from it, and a
// batch gets expires_at = created_at + its completion_window (24h). A batch
// that has not ended when the clock passes expires_at is expired the next
// time it is retrieved or listed: expired_at is expires_at, the requests
// run by then keep their results, and each other request gets a line in
// the error file with status "expired" and the code batch_expired. So the
// lifecycle is fast by default (a few retrievals, whatever the clock) and
// a 24-hour window takes a test one call:
//
//	clk := cerebrastest.NewClock(time.Unix(1_700_000_000, 0))
//	srv := cerebrastest.NewServer(t, cerebrastest.WithClock(clk), cerebrastest.WithBatchRunTime(48*time.Hour))
//	… create a batch and retrieve it: in_progress, for as long as clk stands still
//	clk.Advance(25 * time.Hour) // the next retrieval answers it expired
//
// WithBatchRunTime makes the running step take time on the clock (its
// request counts rise as the clock moves), so a stopped clock holds a batch
// in_progress.
//
// A streamed chat answer is one chunk (one data event) at a time, in this
// order for each choice: a chunk with the role; the reasoning, a word a chunk,
// when the model reasons (gpt-oss-120b does by default; reasoning_effort
// "none", disable_reasoning or reasoning_format "hidden" turn it off); the
// content, a word a chunk, or, for tool calls, a chunk naming each call and
// its arguments 8 bytes a chunk; and a chunk with the finish_reason. A last
// chunk without choices carries usage and time_info, then comes [DONE]. So
// "Hello!" to gpt-oss-120b streams 17 chunks: the role, 11 of reasoning,
// "You", " said:", " Hello!", the finish and the usage. Response.After
// counts these chunks: After 3 cuts that stream before any text, and the
// same request with reasoning_format "hidden" after "You said:".
//
// Tests can script responses, errors and faults with Enqueue, and inspect
// what was sent with Requests. WithRateLimits adds a limiter of requests per
// day and tokens per minute, on the server's Clock, that sends the real
// rate-limit headers and 429s.
package cerebrastest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cerebras-go/cerebras/internal/apierror"
)

// specYAML is a copy of the repository's openapi.yaml, kept in sync by
// `make generate` and checked by `make check-generated`.
//
//go:embed openapi.yaml
var specYAML []byte

// FaultHeader lets a request ask for a fault without scripting the server,
// so concurrent tests can give each request its own. The real API ignores it.
//
// Transient faults hit only a request's first attempt (x-stainless-retry-count
// 0), so the SDK's retry succeeds: "429-once" (or any status, such as
// "503-once"; with a 200 ms retry-after-ms), "reset-once" (connection closed
// before the headers) and "stall-once" (no answer until the client gives up).
// Stream faults hit every attempt, after two events: "reset-mid-stream",
// "stall-mid-stream", "truncate" (no [DONE]) and "inband-error" (an error
// event with status_code 503).
const FaultHeader = "X-Cerebrastest-Fault"

// faultFromHeader turns a FaultHeader value into a scripted response.
func faultFromHeader(v string, firstAttempt bool) (Response, bool) {
	switch v {
	case "reset-once":
		return Response{Fault: ResetBeforeHeaders}, firstAttempt
	case "stall-once":
		return Response{Fault: StallBeforeHeaders}, firstAttempt
	case "reset-mid-stream":
		return Response{Fault: ResetMidStream, After: 2}, true
	case "stall-mid-stream":
		return Response{Fault: StallMidStream, After: 2}, true
	case "truncate":
		return Response{Fault: TruncateStream, After: 2}, true
	case "inband-error":
		return Response{Fault: InBandError, After: 2, Status: http.StatusServiceUnavailable}, true
	}
	status, ok := strings.CutSuffix(v, "-once")
	code, err := strconv.Atoi(status)
	if !ok || err != nil || code < 400 || !firstAttempt {
		return Response{}, false
	}
	r := ErrorResponse(code, "too_many_requests_error", "injected_fault", fmt.Sprintf("Injected %d by the %s header.", code, FaultHeader))
	if code >= 500 {
		r = ErrorResponse(code, "server_error", "injected_fault", fmt.Sprintf("Injected %d by the %s header.", code, FaultHeader))
	}
	r.Header.Set(apierror.HeaderRetryAfterMs, "200")
	r.Header.Set(apierror.HeaderXRatelimitRemainingTokensMinute, "0")
	r.Header.Set(apierror.HeaderXRatelimitResetTokensMinute, "0.200")
	return r, true
}

// Request is a request the server received.
type Request struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// Path is the URL path, such as "/v1/chat/completions".
	Path string
	// RawQuery is the encoded query string without the '?', such as "format=openrouter".
	RawQuery string
	// Header holds the request's headers as the server received them.
	Header http.Header
	// Body is the request body byte for byte, as sent (a gzip-encoded body
	// stays encoded, MessagePack stays MessagePack).
	Body []byte
	// Encoding is how a JSON value's body arrived, named as
	// client.RequestEncoding names it: "json", "gzip" (JSON, compressed),
	// "msgpack" (application/vnd.msgpack) or "msgpack+gzip"; "" for a
	// request without such a body, such as a GET or an upload.
	Encoding string
	// DecodedBody is the body as JSON: Body decompressed and MessagePack
	// turned into JSON (nil when that failed); Body itself otherwise.
	DecodedBody []byte
}

// Server is a running fake API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:12345, for client.WithBaseURL.
	URL string

	hs           *httptest.Server
	t            testing.TB
	doc          *openapi3.T
	router       routers.Router
	apiKey       string
	specPath     string
	validate     bool
	chunkDelay   time.Duration
	addr         string
	warmups      bool
	maxBody      int64
	maxBodySet   bool  // WithMaxBodyBytes was given: it caps uploads too
	maxFile      int64 // the largest file an upload may carry
	clock        *Clock
	batchRunTime time.Duration // WithBatchRunTime
	limiter      *limiter      // nil without WithRateLimits

	// WithFirstEventDelay (latency.go), and the delays drawn.
	firstEvent func(n int) time.Duration
	delayed    atomic.Int64

	mu       sync.Mutex
	queue    []Response
	files    files
	batches  batches
	requests []Request
	ids      atomic.Int64
	open     atomic.Int64
	stopOnce sync.Once
	stop     chan struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server accept only this API key (by default any
// non-empty bearer token is accepted).
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithSpecFile loads the OpenAPI document from path instead of the embedded
// copy (the SDK's own tests use the repository's openapi.yaml). An operation
// of it that the fake does not implement is answered 501, naming it.
func WithSpecFile(path string) Option { return func(s *Server) { s.specPath = path } }

// WithResponseValidation turns the validation of the server's own JSON
// responses and stream events against the spec on or off (default on; a
// violation fails the test, or is logged by a standalone server).
func WithResponseValidation(on bool) Option { return func(s *Server) { s.validate = on } }

// WithChunkDelay waits d between stream events, so a stream arrives over
// time as it does from the real API.
func WithChunkDelay(d time.Duration) Option { return func(s *Server) { s.chunkDelay = d } }

// WithWarmupRequests lists the clients' TCP warm-up requests
// (GET /v1/tcp_warming, which client.New sends in the background) in
// Requests. By default they are answered, never from the script, and left
// out of Requests, so a test sees only the API calls it makes.
func WithWarmupRequests(include bool) Option { return func(s *Server) { s.warmups = include } }

// WithAddr listens on addr (host:port) instead of a free port on 127.0.0.1.
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// defaultMaxBody is the request body cap unless WithMaxBodyBytes sets one.
const defaultMaxBody int64 = 32 << 20

// WithMaxBodyBytes caps request bodies at n bytes (default 32 MiB, and
// for file uploads 200 MB and the form's other fields; n <= 0 keeps the
// default). A longer body is answered 413 with an
// invalid_request_error whose code is request_too_large, before
// authentication, and is not recorded by Requests. A gzip body that
// inflates past n gets the same 413 after authentication, and is recorded.
func WithMaxBodyBytes(n int64) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxBody, s.maxBodySet = n, true
		}
	}
}

// WithMaxFileBytes makes the largest file an upload may carry n bytes
// instead of MaxFileBytes (n <= 0 keeps it), so a test can meet the limit
// cheaply. A larger file is answered 400 with the code file_too_large; a
// multipart body more than 1 MiB over it, 413 like WithMaxBodyBytes.
func WithMaxFileBytes(n int64) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxFile = n
		}
	}
}

// NewServer starts a fake API on 127.0.0.1 and stops it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := start(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake API outside a test, such as in cmd/cerebras-fake; stop
// it with Close.
func Start(opts ...Option) (*Server, error) { return start(nil, opts) }

func start(t testing.TB, opts []Option) (*Server, error) {
	s := &Server{t: t, validate: true, maxBody: defaultMaxBody, maxFile: MaxFileBytes, stop: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.clock == nil {
		s.clock = wallClock()
	}
	var err error
	if s.doc, s.router, err = loadSpec(s.specPath); err != nil {
		return nil, err
	}
	s.hs = httptest.NewUnstartedServer(s)
	if s.addr != "" {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("cerebrastest: %w", err)
		}
		s.hs.Listener.Close()
		s.hs.Listener = l
	}
	s.hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.hs.Start()
	s.URL = s.hs.URL
	if s.limiter != nil { // the windows start when the server can answer
		s.limiter.origin = s.clock.Now()
	}
	return s, nil
}

// Close stops the server, ending stalled responses and open connections.
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.hs.CloseClientConnections()
		s.hs.Close()
	})
}

// OpenConnections returns how many client connections are open now.
func (s *Server) OpenConnections() int { return int(s.open.Load()) }

// Enqueue scripts the answers to the next API calls, in order; calls beyond
// the queue get the built-in model's answer. A Response with Path set is kept
// for the next call to that path, and other calls pass it by. TCP warm-up
// requests never take a scripted response.
func (s *Server) Enqueue(r ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, r...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var specCache sync.Map // path ("" = embedded) -> *loadedSpec

type loadedSpec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadSpec(path string) (*openapi3.T, routers.Router, error) {
	v, _ := specCache.LoadOrStore(path, &loadedSpec{})
	ls := v.(*loadedSpec)
	ls.once.Do(func() {
		data := specYAML
		if path != "" {
			if data, ls.err = os.ReadFile(path); ls.err != nil {
				return
			}
		}
		loader := openapi3.NewLoader()
		if ls.doc, ls.err = loader.LoadFromData(data); ls.err != nil {
			return
		}
		if ls.err = ls.doc.Validate(context.Background()); ls.err != nil {
			return
		}
		ls.doc.Servers = nil // route on paths alone
		ls.router, ls.err = legacy.NewRouter(ls.doc)
	})
	if ls.err != nil {
		return nil, nil, fmt.Errorf("cerebrastest: loading the OpenAPI document: %w", ls.err)
	}
	return ls.doc, ls.router, nil
}

// dequeue takes the first scripted response that targets path.
func (s *Server) dequeue(path string) (Response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.queue {
		if r.Path == "" || r.Path == path {
			s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			return r, true
		}
	}
	return Response{}, false
}

// ServeHTTP records, authenticates and validates a request, then answers it
// from the script or the model.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params, routeErr := s.router.FindRoute(r)
	limit := s.maxBody
	if routeErr == nil && route.Operation.OperationID == "uploadFile" && !s.maxBodySet {
		limit = s.maxFile + maxFormOverhead
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		msg := fmt.Sprintf("Request body exceeds the limit of %d bytes.", tooLarge.Limit)
		s.writeJSON(w, http.StatusRequestEntityTooLarge, nil, errorBody(msg, "invalid_request_error", "", "request_too_large"), "")
		return
	}
	if err != nil {
		return
	}
	raw := body
	enc := bodyEncoding(r.Header, body)
	body, decodeErr := decodeBody(r.Header, body, s.maxBody)
	warmup := routeErr == nil && route.Operation.OperationID == warmupOperation
	if !warmup || s.warmups {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: raw,
			Encoding: enc, DecodedBody: body})
		s.mu.Unlock()
	}

	// An operation whose security is empty in the spec (the public model
	// catalogue) takes no key.
	public := routeErr == nil && route.Operation.Security != nil && len(*route.Operation.Security) == 0
	if !public && !s.authorized(r) {
		s.writeJSON(w, http.StatusUnauthorized, nil, errorBody("Wrong API Key", "invalid_request_error", "api_key", "wrong_api_key"), "")
		return
	}
	if routeErr != nil {
		s.writeJSON(w, http.StatusNotFound, nil, `{"detail":"Not Found"}`, "")
		return
	}
	if decodeErr != nil {
		s.writeJSON(w, decodeErr.status, nil, errorBody(decodeErr.msg, "invalid_request_error", "", decodeErr.code), "")
		return
	}
	// The body is validated as the JSON it carries: MessagePack against the
	// schema of its own media type, where the operation declares one (the
	// same schema as JSON's), and refused by the validation elsewhere.
	vr := r
	if r.Header.Get("Content-Encoding") != "" || (mediaType(r.Header) == msgpackContent && route.Operation.RequestBody != nil &&
		route.Operation.RequestBody.Value.Content.Get(msgpackContent) != nil) {
		vr = r.Clone(r.Context())
		vr.Header.Del("Content-Encoding")
		if mediaType(r.Header) == msgpackContent {
			vr.Header.Set("Content-Type", "application/json")
		}
	}
	vr.Body = io.NopCloser(bytes.NewReader(body))
	if err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}); err != nil {
		s.writeJSON(w, http.StatusUnprocessableEntity, nil, validationBody(err), "")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	x := &exchange{s: s, w: w, r: r, body: body, op: route.Operation.OperationID, path: route.Path, params: params}
	// A warm-up is answered outside the script and the fault header: it is
	// no API call a test makes.
	if !warmup {
		if resp, ok := s.dequeue(r.URL.Path); ok {
			x.script = resp
		} else if f := r.Header.Get(FaultHeader); f != "" {
			first := r.Header.Get("X-Stainless-Retry-Count") == "" || r.Header.Get("X-Stainless-Retry-Count") == "0"
			if resp, ok := faultFromHeader(f, first); ok {
				x.script = resp
			}
		}
	}
	x.serve()
}

// warmupOperation is the operationId of GET /v1/tcp_warming.
const warmupOperation = "tcpWarming"

func (s *Server) authorized(r *http.Request) bool {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(key) == "" {
		return false
	}
	return s.apiKey == "" || key == s.apiKey
}

// validationBody turns a kin-openapi validation error into the FastAPI 422
// body the real API sends: {"detail":[{"loc":[...],"msg":"...","type":"..."}]}.
func validationBody(err error) string {
	loc := []any{"body"}
	msg := err.Error()
	typ := "value_error"
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		if re.Parameter != nil {
			loc = []any{re.Parameter.In, re.Parameter.Name}
		}
		msg = re.Reason
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			for _, p := range se.JSONPointer() {
				loc = append(loc, p)
			}
			msg = se.Reason
			typ = "schema_error"
		} else if re.Err != nil {
			msg = strings.TrimSpace(msg + " " + re.Err.Error())
			if re.RequestBody != nil {
				typ = "json_invalid"
			}
		}
	}
	if msg == "" {
		msg = err.Error()
	}
	b, _ := json.Marshal(map[string]any{"detail": []any{map[string]any{"loc": loc, "msg": msg, "type": typ}}})
	return string(b)
}

// errorBody is the real API's wrapped error body.
func errorBody(message, typ, param, code string) string {
	e := map[string]any{"message": message, "type": typ, "code": code}
	if param != "" {
		e["param"] = param
	} else {
		e["param"] = nil
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

// writeJSON sends a JSON body; schema names the spec schema to check it
// against ("" to skip).
func (s *Server) writeJSON(w http.ResponseWriter, status int, header http.Header, body, schema string) {
	if schema != "" {
		s.check(schema, []byte(body))
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(apierror.HeaderXRequestID, s.requestID())
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *Server) requestID() string { return fmt.Sprintf("req-fake-%d", s.ids.Add(1)) }

// check validates one of the server's own payloads against the spec.
func (s *Server) check(schema string, data []byte) {
	if !s.validate {
		return
	}
	ref := s.doc.Components.Schemas[schema]
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil && ref != nil {
		err = ref.Value.VisitJSON(v)
	}
	if err != nil {
		msg := fmt.Sprintf("cerebrastest: the fake sent a %s that does not match openapi.yaml: %v\n%s", schema, err, data)
		if s.t != nil {
			s.t.Error(msg)
		} else {
			fmt.Fprintln(os.Stderr, msg)
		}
	}
}

// wait pauses for d, or until the request or the server ends; d == 0 waits
// for either of those only.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
		return true
	case <-ctx.Done():
		return false
	case <-s.stop:
		return false
	}
}
