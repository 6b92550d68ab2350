package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/internal/msgpack"
	"github.com/cerebras-go/cerebras/internal/spec"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "csk-test-SECRET-0123456789"

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// router loads openapi.yaml once for every test that validates requests.
func router(t testing.TB) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		var doc *openapi3.T
		doc, specErr = spec.Load("../openapi.yaml")
		if specErr != nil {
			return
		}
		doc.Servers = nil
		specRouter, specErr = legacy.NewRouter(doc)
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specRouter
}

// recorded is one request the test server received.
type recorded struct {
	Method, Path, RawQuery string
	RequestURI             string // as sent: the path still escaped
	Header                 http.Header
	Raw                    []byte // the body as it arrived
	Body                   []byte // the body as JSON: decompressed, and MessagePack turned into JSON
	SpecErr                error  // the request's violation of openapi.yaml, if any
}

// server is a loopback API stand-in that records and validates requests and
// answers with handle (n counts requests from 0).
type server struct {
	*httptest.Server
	t      testing.TB
	mu     sync.Mutex
	reqs   []recorded
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func newServer(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int), setup ...func(*httptest.Server)) *server {
	s := &server{t: t, handle: handle}
	rt := router(t)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		body, decodeErr := decodeBody(r.Header, raw)
		rec := recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, RequestURI: r.RequestURI, Header: r.Header.Clone(), Raw: raw, Body: body}
		vr := r.Clone(context.Background())
		vr.Body = io.NopCloser(bytes.NewReader(body))
		vr.Header.Del("Content-Encoding")
		route, params, err := rt.FindRoute(vr)
		switch {
		case err != nil:
			rec.SpecErr = err
		case decodeErr != nil:
			rec.SpecErr = decodeErr
		case r.Header.Get("Content-Type") == msgpackContent && route.Operation.RequestBody.Value.Content.Get(msgpackContent) == nil:
			rec.SpecErr = fmt.Errorf("%s takes no %s body", route.Operation.OperationID, msgpackContent)
		default:
			if r.Header.Get("Content-Type") == msgpackContent {
				vr.Header.Set("Content-Type", "application/json") // the same schema, now as JSON
			}
			rec.SpecErr = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
				Request: vr, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			})
		}
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.handle(w, r, n)
	}))
	for _, f := range setup {
		f(s.Server)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// decodeBody undoes a request's Content-Encoding (gzip) and Content-Type
// (MessagePack) into the JSON it carries.
func decodeBody(h http.Header, raw []byte) ([]byte, error) {
	body := raw
	switch ce := h.Get("Content-Encoding"); ce {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return raw, fmt.Errorf("gzip body: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return raw, fmt.Errorf("gzip body: %w", err)
		}
	default:
		return raw, fmt.Errorf("Content-Encoding %q", ce)
	}
	if h.Get("Content-Type") == msgpackContent {
		js, err := msgpack.ToJSON(nil, body)
		if err != nil {
			return body, fmt.Errorf("msgpack body: %w", err)
		}
		body = js
	}
	return body, nil
}

func (s *server) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *server) last() recorded {
	s.t.Helper()
	r := s.requests()
	if len(r) == 0 {
		s.t.Fatal("the server received no request")
	}
	return r[len(r)-1]
}

// newTestClient returns a client for srv that ignores the environment, does
// not warm, and records retry delays instead of sleeping them.
func newTestClient(t testing.TB, srv *server, opts ...Option) (*Client, *[]time.Duration) {
	t.Helper()
	base := []Option{WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), WithTCPWarming(false)}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, recordDelays(c)
}

// recordDelays makes c record its retry delays instead of sleeping them,
// and turns its jitter off.
func recordDelays(c *Client) *[]time.Duration {
	var mu sync.Mutex
	delays := &[]time.Duration{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*delays = append(*delays, d)
		mu.Unlock()
		return ctx.Err()
	}
	c.jitter = func() float64 { return 0 }
	return delays
}

// Canned response bodies.
const (
	chatJSON       = `{"id":"chatcmpl-1","object":"chat.completion","created":1723733419,"model":"llama3.1-8b","system_fingerprint":"fp_1","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I assist you today?"}}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22},"time_info":{"queue_time":0.0001,"total_time":0.02}}`
	completionJSON = `{"id":"cmpl-1","object":"text_completion","created":1,"model":"llama3.1-8b","choices":[{"index":0,"text":" there was","finish_reason":"length"}]}`
	modelsJSON     = `{"object":"list","data":[{"id":"llama3.1-8b","object":"model","created":1,"owned_by":"Meta"}]}`
	modelJSON      = `{"id":"llama3.1-8b","object":"model","created":1,"owned_by":"Meta"}`
)

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// okJSON answers every request with body.
func okJSON(body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, body) }
}

func chatParams() ChatCompletionNewParams {
	return ChatCompletionNewParams{Model: ModelGemma431B, Messages: []ChatMessage{UserMessage("Hello!")}}
}
