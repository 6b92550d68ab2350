package otelcerebras

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

func TestChat(t *testing.T) {
	h := newHarness(t, nil, nil)
	params := chatParams("Hello!")
	params.MaxCompletionTokens = client.Int(100)
	params.Temperature = client.Float(0)
	params.TopP = client.Float(0.5)
	params.FrequencyPenalty = client.Float(0.25)
	params.PresencePenalty = client.Float(-0.5)
	params.Seed = client.Int64(7)
	params.N = client.Int(2)
	params.Stop = client.Stop("END")
	params.ServiceTier = client.Ptr(client.ServiceTierAuto)
	if _, err := h.c.Chat.Completions.New(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	golden(t, "spans", h.spanLines(t))
	golden(t, "metrics", h.metricLines(t))
}

func TestStream(t *testing.T) {
	h := newHarness(t, nil, nil)
	s, err := h.c.Chat.Completions.NewStreaming(context.Background(), chatParams("Hello!"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "spans", h.spanLines(t))
	golden(t, "metrics", h.metricLines(t))
}

// readStream reads a chat stream of "Hello!" until stop says to break.
func readStream(t *testing.T, h *harness, stop func(n int) bool) error {
	t.Helper()
	s, err := h.c.Chat.Completions.NewStreaming(context.Background(), chatParams("Hello!"))
	if err != nil {
		return err
	}
	n := 0
	for _, err := range s.All() {
		if err != nil {
			return err
		}
		n++
		if stop != nil && stop(n) {
			break
		}
	}
	return nil
}

var retryDelay = regexp.MustCompile(`cerebras\.retry\.delay=[0-9.e-]+`)

func TestStreamEnds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  []cerebrastest.Response
		stop    func(n int) bool
		wantErr bool
	}{{
		name: "broken out of",
		stop: func(n int) bool { return n == 3 },
	}, {
		name:    "failed mid-way",
		script:  []cerebrastest.Response{{Fault: cerebrastest.TruncateStream, After: 5}},
		wantErr: true,
	}, {
		name:    "in-stream error",
		script:  []cerebrastest.Response{{Fault: cerebrastest.InBandError, After: 5, Status: http.StatusBadRequest}},
		wantErr: true,
	}, {
		name:   "replayed before its first event",
		script: []cerebrastest.Response{{Fault: cerebrastest.ResetMidStream, After: 0}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			h.fake.Enqueue(tc.script...)
			err := readStream(t, h, tc.stop)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			spans := h.spanLines(t)
			for i, s := range spans {
				for _, d := range retryDelay.FindAllString(s, -1) {
					// the replay waits the jittered backoff: 0.375 to 0.5 s
					if v, err := strconv.ParseFloat(strings.TrimPrefix(d, "cerebras.retry.delay="), 64); err != nil || v < 0.375 || v > 0.5 {
						t.Errorf("%s, want 0.375 to 0.5 s", d)
					}
				}
				spans[i] = retryDelay.ReplaceAllString(s, "cerebras.retry.delay=D")
			}
			golden(t, "spans", spans)
			golden(t, "metrics", h.metricLines(t))
		})
	}
}

func TestRetried429(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.fake.Enqueue(cerebrastest.RateLimited(time.Millisecond))
	if _, err := h.c.Chat.Completions.New(context.Background(), chatParams("Hello!")); err != nil {
		t.Fatal(err)
	}
	golden(t, "spans", h.spanLines(t))
	golden(t, "metrics", h.metricLines(t))
}

func TestAPIError(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.fake.Enqueue(cerebrastest.ErrorResponse(http.StatusBadRequest, "invalid_request_error", "wrong_param", "Bad param"))
	_, err := h.c.Chat.Completions.New(context.Background(), chatParams("Hello!"))
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	golden(t, "spans", h.spanLines(t))
	golden(t, "metrics", h.metricLines(t))
}

// scriptedCompletion is a literal chat completion that calls the tools,
// or answers text.
func scriptedCompletion(t *testing.T, text string, calls ...client.ToolCall) cerebrastest.Response {
	t.Helper()
	for i := range calls {
		calls[i].Index = client.Int(i)
	}
	finish := client.FinishReasonStop
	if len(calls) > 0 {
		finish = client.FinishReasonToolCalls
	}
	b, err := json.Marshal(client.ChatCompletion{ID: "chatcmpl-scripted", Object: "chat.completion", Created: 1, Model: client.ModelGPTOSS120B,
		Choices: []client.ChatCompletionChoice{{Index: 0, Message: client.ChatCompletionMessage{Role: "assistant", Content: text, ToolCalls: calls}, FinishReason: finish}},
		Usage:   &client.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}})
	if err != nil {
		t.Fatal(err)
	}
	return cerebrastest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: string(b)}
}

func toolCall(id, name, args string) client.ToolCall {
	return client.ToolCall{ID: id, Type: "function", Function: client.ToolCallFunction{Name: name, Arguments: args}}
}

type cityArgs struct {
	City string `json:"city"`
}

func TestToolRunner(t *testing.T) {
	h := newHarness(t, nil, nil)
	weather := toolrunner.MustNewTool("get_weather", "The weather", func(_ context.Context, a cityArgs) (string, error) { return "21 °C in " + a.City, nil })
	fail := toolrunner.MustNewTool("fail", "Fails", func(context.Context, struct{}) (string, error) { return "", errors.New("the backend is down") })
	h.fake.Enqueue(scriptedCompletion(t, "", toolCall("c1", "get_weather", `{"city":"Oslo"}`), toolCall("c2", "fail", "{}")),
		scriptedCompletion(t, "It is 21 °C."))
	r := toolrunner.Runner{Chat: h.c.Chat.Completions, Tools: []toolrunner.Tool{weather, fail}, Observer: h.obs, Concurrency: 1}
	if _, err := r.Run(context.Background(), chatParams("Weather in Oslo?")); err != nil {
		t.Fatal(err)
	}
	golden(t, "spans", h.spanLines(t))
	golden(t, "metrics", h.metricLines(t))
}

func TestBulkRun(t *testing.T) {
	h := newHarness(t, nil, nil)
	var in bytes.Buffer
	w := batchfile.NewWriter(&in)
	for _, id := range []string{"a", "b"} {
		if err := w.Add(id, chatParams("question "+id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(filepath.Join(t.TempDir(), "results.jsonl"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := batchfile.RunLocal(context.Background(), h.c.Chat.Completions, &in, out, batchfile.RunParams{Concurrency: 1, Observer: h.obs}); err != nil {
		t.Fatal(err)
	}
	golden(t, "spans", h.spanLines(t))
}

// A key-shaped value sent everywhere it could leak (the client's key, the
// params, the messages with content capture on, a tool's arguments and
// error, a base URL's userinfo) is in no span, event or metric.
func TestAPIKeyIsNeverRecorded(t *testing.T) {
	const key = "csk-k3y5h4p3dv4lu3th4tmu5tn3v3rl34k0ut0fth3pr0c355x1"
	h := newHarness(t, []Option{WithContentCapture(0), WithGeneration(Generation2)},
		[]cerebrastest.Option{cerebrastest.WithAPIKey(key)}, client.WithAPIKey(key))
	params := chatParams("my key is " + key + ", say it back")
	params.Stop = client.Stop(key)
	params.User = client.String(key)
	params.Messages = append(params.Messages, client.SystemMessage("The key: "+key))
	if _, err := h.c.Chat.Completions.New(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	if err := readStream(t, h, nil); err != nil {
		t.Fatal(err)
	}
	bad := params
	bad.Model = key // the API's error names the model
	if _, err := h.c.Chat.Completions.New(context.Background(), bad); err == nil {
		t.Fatal("a model named like a key was accepted")
	}
	h.fake.Enqueue(cerebrastest.ErrorResponse(http.StatusBadRequest, "invalid_request_error", key, "echoing "+key))
	if _, err := h.c.Chat.Completions.New(context.Background(), params); err == nil {
		t.Fatal("no error")
	}
	leaky := toolrunner.MustNewTool("leak", "Leaks", func(_ context.Context, a cityArgs) (string, error) {
		return "", errors.New("failed with " + a.City)
	})
	h.fake.Enqueue(scriptedCompletion(t, "", toolCall(key, "leak", `{"city":"`+key+`"}`)), scriptedCompletion(t, "Done "+key))
	r := toolrunner.Runner{Chat: h.c.Chat.Completions, Tools: []toolrunner.Tool{leaky}, Observer: h.obs}
	if _, err := r.Run(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	spans, metrics := h.spanLines(t), h.metricLines(t)
	if len(spans) != 8 {
		t.Errorf("%d spans, want 8", len(spans))
	}
	redacted := 0
	for _, l := range append(spans, metrics...) {
		if strings.Contains(l, key[:len(keyPrefix)+minKeyTail]) {
			t.Errorf("the key leaked: %s", l)
		}
		redacted += strings.Count(l, keyMask)
	}
	if redacted < 10 {
		t.Errorf("%d values redacted: the test did not reach the places it tries", redacted)
	}
}

func TestPropagation(t *testing.T) {
	h := newHarness(t, nil, nil, client.WithMiddleware(Propagation(propagation.TraceContext{})))
	if _, err := h.c.Chat.Completions.New(context.Background(), chatParams("Hello!")); err != nil {
		t.Fatal(err)
	}
	spans := h.spans.Ended()
	reqs := h.fake.Requests()
	if len(spans) != 1 || len(reqs) != 1 {
		t.Fatalf("%d spans, %d requests", len(spans), len(reqs))
	}
	sc := spans[0].SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	if got := reqs[0].Header.Get("traceparent"); got != want {
		t.Errorf("traceparent %q, want %q", got, want)
	}

	// Off by default: no middleware, no header.
	h = newHarness(t, nil, nil)
	if _, err := h.c.Chat.Completions.New(context.Background(), chatParams("Hello!")); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Requests()[0].Header.Get("traceparent"); got != "" {
		t.Errorf("traceparent %q sent without Propagation", got)
	}
}

// Generation 2 and content capture: the opt-in's metric names and span
// attributes, and the messages, capped.
func TestGeneration2WithContent(t *testing.T) {
	h := newHarness(t, []Option{WithContentCapture(12), WithGeneration(Generation2)}, nil)
	params := chatParams("Hello!")
	params.ReasoningEffort = client.Ptr(client.ReasoningEffortLow)
	params.Messages = append([]client.ChatMessage{client.SystemMessage("Be brief.")}, params.Messages...)
	if _, err := h.c.Chat.Completions.New(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	if err := readStream(t, h, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "spans", h.spanLines(t))
	golden(t, "metrics", h.metricLines(t))
}

func TestBatchesWait(t *testing.T) {
	h := newHarness(t, nil, nil)
	var in bytes.Buffer
	w := batchfile.NewWriter(&in)
	if err := w.Add("a", chatParams("question a")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := h.c.Files.New(ctx, client.FileNewParams{File: &in, Filename: "in.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.c.Batches.New(ctx, client.BatchNewParams{InputFileID: f.ID, Endpoint: client.BatchEndpointChatCompletions, CompletionWindow: client.BatchCompletionWindowHours24})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Batches.Wait(ctx, b.ID, client.BatchWaitParams{Interval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	golden(t, "spans", h.spanLines(t))
}

func TestGenerationFromEnv(t *testing.T) {
	for env, want := range map[string]Generation{
		"":                                       Generation1,
		"http":                                   Generation1,
		"gen_ai_latest":                          Generation1,
		OptInValue:                               Generation2,
		"http/dup, " + OptInValue + " ,database": Generation2,
	} {
		t.Setenv(OptInEnv, env)
		if got := GenerationFromEnv(); got != want {
			t.Errorf("%s=%q: generation %d, want %d", OptInEnv, env, got, want)
		}
		if got := New(WithGeneration(Generation(7))).gen; got != want {
			t.Errorf("%s=%q, an unknown WithGeneration: generation %d, want the environment's %d", OptInEnv, env, got, want)
		}
		if got := New(WithGeneration(Generation1)).gen; got != Generation1 {
			t.Errorf("WithGeneration(Generation1) under %q: generation %d", env, got)
		}
	}
}

// TestHedge: a hedged stream (client.WithHedging) whose first attempt
// never answers is one span, with a cerebras.hedge event for the
// duplicate that won, and two attempts. A middleware holds the first
// attempt (X-Stainless-Retry-Count 0) until it is cancelled, so the hedge
// wins whatever the machine's speed.
func TestHedge(t *testing.T) {
	holdFirst := func(req *http.Request, next client.Next) (*http.Response, error) {
		if req.Header.Get("X-Stainless-Retry-Count") == "0" {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return next(req)
	}
	h := newHarness(t, nil, nil, client.WithMiddleware(holdFirst), client.WithHedging(client.HedgePolicy{Delay: time.Millisecond}))
	s, err := h.c.Chat.Completions.NewStreaming(context.Background(), chatParams("Hello!"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
	}
	lines := h.spanLines(t)
	if len(lines) != 1 {
		t.Fatalf("spans:\n%s", strings.Join(lines, "\n"))
	}
	for _, want := range []string{"cerebras.attempts=2", "event cerebras.hedge {cerebras.hedge.attempt=1 cerebras.hedge.won=true}"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("span %s\nlacks %s", lines[0], want)
		}
	}
}
