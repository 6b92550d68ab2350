package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/streaming"
)

// TestEndpoints sends every endpoint's request over loopback HTTP and checks
// path, method, headers and body, and that openapi.yaml accepts the request.
func TestEndpoints(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name       string
		method     string
		path       string
		query      string
		respond    string
		call       func(c *Client) (any, error)
		wantBody   string
		wantHeader map[string]string
		check      func(t *testing.T, v any)
	}{
		{
			name: "chat required params", method: "POST", path: "/v1/chat/completions", respond: chatJSON,
			call:     func(c *Client) (any, error) { return c.Chat.Completions.New(ctx, chatParams()) },
			wantBody: `{"messages":[{"content":"Hello!","role":"user"}],"model":"gemma-4-31b"}`,
			check: func(t *testing.T, v any) {
				cc := v.(*ChatCompletion)
				if cc.Choices[0].Message.Content != "Hello! How can I assist you today?" || cc.Usage.TotalTokens != 22 {
					t.Errorf("decoded %+v", cc)
				}
			},
		},
		{
			name: "chat all params", method: "POST", path: "/v1/chat/completions", respond: chatJSON,
			call: func(c *Client) (any, error) {
				tool := FunctionTool("get_weather", "Weather for a city", map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}})
				tool.Function.Strict = Bool(true)
				p := ChatCompletionNewParams{
					Model: ModelGPTOSS120B,
					Messages: []ChatMessage{SystemMessage("be brief"), DeveloperMessage("dev"), UserMessageParts(TextPart("hi"), ImageURLPart("https://example.com/a.png"), ImagePart("aGk=")),
						AssistantMessage("hello"), ToolMessage(ToolCall{ID: "call_1"}, "sunny")},
					ClearThinking: Bool(false), DisableReasoning: Bool(false), FrequencyPenalty: Float(0), LogitBias: map[string]float64{"42": -100},
					Logprobs: Bool(true), TopLogprobs: Int(0), MaxCompletionTokens: Int(-1), MaxTokens: Int(-1), MinCompletionTokens: Int(-1), MinTokens: Int(0),
					ModelParameters: map[string]any{"foo": "bar"}, N: Int(1), ParallelToolCalls: Bool(true),
					Prediction:      &gen.Prediction{Type: gen.PredictionTypeContent, Content: assistantText("predicted")},
					PresencePenalty: Float(0), PromptCacheKey: String("key"), ReasoningEffort: Ptr(gen.ReasoningEffortNone),
					ReasoningFormat: Ptr(gen.ReasoningFormatParsed), ResponseFormat: ResponseFormatText(), Seed: Int64(0),
					ServiceTier: Ptr(gen.ServiceTierAuto), Stop: Stop("a", "b"), StreamOptions: &gen.StreamOptions{IncludeUsage: Bool(true)},
					Temperature: Float(0), ToolChoice: ToolChoiceFunction("get_weather"), Tools: []Tool{tool}, TopP: Float(1), User: String("u-1"),
				}
				return c.Chat.Completions.New(ctx, p, WithCFRay("ray-1"), WithAmzCfID("amz-1"), WithDelayTime(0.5), WithQueueThreshold(100), WithAPIVersion(2))
			},
			wantBody:   `{"clear_thinking":false,"disable_reasoning":false,"frequency_penalty":0,"logit_bias":{"42":-100},"logprobs":true,"max_completion_tokens":-1,"max_tokens":-1,"messages":[{"content":"be brief","role":"system"},{"content":"dev","role":"developer"},{"content":[{"text":"hi","type":"text"},{"image_url":{"url":"https://example.com/a.png"},"type":"image_url"},{"image":"aGk=","type":"image"}],"role":"user"},{"content":"hello","role":"assistant"},{"content":"sunny","role":"tool","tool_call_id":"call_1"}],"min_completion_tokens":-1,"min_tokens":0,"model":"gpt-oss-120b","model_parameters":{"foo":"bar"},"n":1,"parallel_tool_calls":true,"prediction":{"content":"predicted","type":"content"},"presence_penalty":0,"prompt_cache_key":"key","reasoning_effort":"none","reasoning_format":"parsed","response_format":{"type":"text"},"seed":0,"service_tier":"auto","stop":["a","b"],"stream_options":{"include_usage":true},"temperature":0,"tool_choice":{"function":{"name":"get_weather"},"type":"function"},"tools":[{"function":{"description":"Weather for a city","name":"get_weather","parameters":{"properties":{"city":{"type":"string"}},"type":"object"},"strict":true},"type":"function"}],"top_logprobs":0,"top_p":1,"user":"u-1"}`,
			wantHeader: map[string]string{"Cf-Ray": "ray-1", "X-Amz-Cf-Id": "amz-1", "X-Delay-Time": "0.5", "Queue_threshold": "100", "X-Cerebras-Version-Patch": "2"},
		},
		{
			name: "completion", method: "POST", path: "/v1/completions", respond: completionJSON,
			call: func(c *Client) (any, error) {
				return c.Completions.New(ctx, CompletionNewParams{Model: "llama3.1-8b", Prompt: Prompt("Once upon a time"), MaxTokens: Int(16), Temperature: Float(0), Seed: Int64(0)},
					WithCFRay("ray-2"), WithDelayTime(1))
			},
			wantBody:   `{"max_tokens":16,"model":"llama3.1-8b","prompt":"Once upon a time","seed":0,"temperature":0}`,
			wantHeader: map[string]string{"Cf-Ray": "ray-2", "X-Delay-Time": "1"},
			check: func(t *testing.T, v any) {
				if v.(*Completion).Choices[0].Text != " there was" {
					t.Errorf("decoded %+v", v)
				}
			},
		},
		{
			name: "completion token prompt", method: "POST", path: "/v1/completions", respond: completionJSON,
			call: func(c *Client) (any, error) {
				return c.Completions.New(ctx, CompletionNewParams{Model: "llama3.1-8b", Prompt: PromptTokens(1, 2, 3)})
			},
			wantBody: `{"model":"llama3.1-8b","prompt":[1,2,3]}`,
		},
		{
			name: "models list", method: "GET", path: "/v1/models", respond: modelsJSON,
			call:       func(c *Client) (any, error) { return c.Models.List(ctx, WithAPIVersion(2)) },
			wantHeader: map[string]string{"X-Cerebras-Version-Patch": "2"},
			check: func(t *testing.T, v any) {
				if l := v.(*ModelList); len(l.Data) != 1 || l.Data[0].ID != "llama3.1-8b" {
					t.Errorf("decoded %+v", l)
				}
			},
		},
		{
			name: "models list format", method: "GET", path: "/v1/models", query: "format=openrouter", respond: `{"data":[{"id":"cerebras/gpt-oss-120b","context_length":131072}]}`,
			call: func(c *Client) (any, error) { return c.Models.ListFormat(ctx, gen.ModelFormatOpenrouter) },
			check: func(t *testing.T, v any) {
				l, err := v.(*gen.ModelListResponse).AsOpenRouterModelList()
				if err != nil || l.Data[0].ID != "cerebras/gpt-oss-120b" || l.Data[0].ContextLength != 131072 {
					t.Errorf("decoded %+v %v", l, err)
				}
			},
		},
		{
			name: "models get", method: "GET", path: "/v1/models/llama3.1-8b", respond: modelJSON,
			call: func(c *Client) (any, error) { return c.Models.Get(ctx, "llama3.1-8b") },
			check: func(t *testing.T, v any) {
				if v.(*Model).ID != "llama3.1-8b" {
					t.Errorf("decoded %+v", v)
				}
			},
		},
		{
			name: "models get format escapes the id", method: "GET", path: "/v1/models/a/b", query: "format=huggingface", respond: `{"id":"a/b","context_length":8192}`,
			call: func(c *Client) (any, error) { return c.Models.GetFormat(ctx, "a/b", gen.ModelFormatHuggingface) },
			check: func(t *testing.T, v any) {
				m, err := v.(*gen.ModelResponse).AsHuggingFaceModel()
				if err != nil || m.ID != "a/b" {
					t.Errorf("decoded %+v %v", m, err)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, okJSON(tc.respond))
			c, _ := newTestClient(t, srv)
			v, err := tc.call(c)
			if err != nil {
				t.Fatal(err)
			}
			r := srv.last()
			if r.Method != tc.method || r.Path != tc.path || r.RawQuery != tc.query {
				t.Errorf("sent %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, tc.method, tc.path, tc.query)
			}
			if r.SpecErr != nil && !strings.Contains(tc.path, "/a/b") {
				t.Errorf("openapi.yaml rejects the request: %v", r.SpecErr)
			}
			if tc.wantBody != "" && string(r.Body) != tc.wantBody {
				t.Errorf("body\n got %s\nwant %s", r.Body, tc.wantBody)
			}
			if tc.method == "GET" && (len(r.Body) != 0 || r.Header.Get("Content-Type") != "") {
				t.Errorf("GET sent a body %q or a Content-Type %q", r.Body, r.Header.Get("Content-Type"))
			}
			for k, want := range tc.wantHeader {
				if got := r.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			checkSDKHeaders(t, r.Header, false)
			if tc.check != nil {
				tc.check(t, v)
			}
		})
	}
}

func checkSDKHeaders(t *testing.T, h http.Header, stream bool) {
	t.Helper()
	want := map[string]string{
		"Authorization":               "Bearer " + testKey,
		"X-Stainless-Lang":            "go",
		"X-Stainless-Package-Version": Version,
		"X-Stainless-Runtime":         "go",
		"X-Stainless-Runtime-Version": runtime.Version(),
		"X-Stainless-Retry-Count":     "0",
		"X-Stainless-Timeout":         "60",
		"Accept":                      "application/json",
	}
	if stream {
		want["Accept"] = "text/event-stream"
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if ua := h.Get("User-Agent"); !strings.HasPrefix(ua, "cerebras-go/"+Version+" (go") {
		t.Errorf("User-Agent = %q", ua)
	}
	if h.Get("X-Stainless-Os") == "" || h.Get("X-Stainless-Arch") == "" {
		t.Error("no X-Stainless-Os/Arch")
	}
}

func TestStreamingEndpoints(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Ratelimit-Remaining-Tokens-Minute", "999")
		if r.URL.Path == "/v1/completions" {
			_, _ = io.WriteString(w, "data: "+completionJSON+"\n\ndata: [DONE]\n\n")
			return
		}
		_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}`+"\n\ndata: [DONE]\n\n")
	})
	c, _ := newTestClient(t, srv)
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams())
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		got += chunk.Choices[0].Delta.Content
	}
	r := srv.last()
	if got != "Hi" || string(r.Body) != `{"messages":[{"content":"Hello!","role":"user"}],"model":"gemma-4-31b","stream":true}` || r.SpecErr != nil {
		t.Errorf("got %q, sent %s, spec %v", got, r.Body, r.SpecErr)
	}
	checkSDKHeaders(t, r.Header, true)
	if rl := ParseRateLimit(stream.Response().Header); rl.TokensMinute.Remaining != 999 {
		t.Errorf("rate limit from the stream = %+v", rl)
	}

	cs, err := c.Completions.NewStreaming(context.Background(), CompletionNewParams{Model: "m", Prompt: Prompt("a", "b")})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if !cs.Next() || cs.Current().Choices[0].Text != " there was" {
		t.Fatalf("completion stream: %v", cs.Err())
	}
	if cs.Next() || cs.Err() != nil {
		t.Errorf("want a clean end, got %v", cs.Err())
	}
	if r := srv.last(); string(r.Body) != `{"model":"m","prompt":["a","b"],"stream":true}` || r.SpecErr != nil {
		t.Errorf("sent %s, spec %v", r.Body, r.SpecErr)
	}
}

func TestStreamingErrorsReturnAtOnce(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			w.Header().Set("Retry-After-Ms", "1")
			writeJSON(w, 503, `{"error":{"message":"busy"}}`)
			return
		}
		w.Header().Set("X-Request-Id", "req-9")
		w.Header().Set("X-Ratelimit-Remaining-Requests-Day", "0")
		writeJSON(w, 400, `{"error":{"message":"bad model","type":"invalid_request_error","param":"model","code":"model_not_found"}}`)
	})
	c, _ := newTestClient(t, srv)
	var resp *http.Response
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams(), WithResponseInto(&resp))
	var apiErr *APIError
	if stream != nil || !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "model" || apiErr.RequestID != "req-9" ||
		!apiErr.RateLimit.RequestsDay.Present || !errors.Is(err, ErrBadRequest) {
		t.Fatalf("stream %v err %v", stream, err)
	}
	if len(srv.requests()) != 2 || resp == nil || resp.StatusCode != 400 {
		t.Errorf("%d requests (want the 503 retried once), resp %v", len(srv.requests()), resp)
	}
	if got := srv.requests()[1].Header.Get("X-Stainless-Retry-Count"); got != "1" {
		t.Errorf("retry count on the retry = %q", got)
	}

	json200 := newServer(t, okJSON(chatJSON))
	c2, _ := newTestClient(t, json200)
	_, err = c2.Chat.Completions.NewStreaming(context.Background(), chatParams())
	var respErr *ResponseError
	if !errors.As(err, &respErr) || !strings.Contains(err.Error(), "text/event-stream") {
		t.Errorf("a JSON answer to a streaming call: err = %v", err)
	}
}

func TestBadInputIsRejectedBeforeSending(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	c, _ := newTestClient(t, srv)
	var nilCtx context.Context
	var empty ChatMessage
	cases := map[string]func() error{
		"nil context": func() error { _, err := c.Chat.Completions.New(nilCtx, chatParams()); return err },
		"empty model": func() error {
			_, err := c.Chat.Completions.New(context.Background(), ChatCompletionNewParams{Messages: []ChatMessage{UserMessage("x")}})
			return err
		},
		"no messages": func() error {
			_, err := c.Chat.Completions.New(context.Background(), ChatCompletionNewParams{Model: "m"})
			return err
		},
		"zero message": func() error {
			_, err := c.Chat.Completions.New(context.Background(), ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{empty}})
			return err
		},
		"tool message without id": func() error {
			_, err := c.Chat.Completions.New(context.Background(), ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{ToolMessage(ToolCall{}, "x")}})
			return err
		},
		"stream true in New": func() error {
			p := chatParams()
			p.Stream = Bool(true)
			_, err := c.Chat.Completions.New(context.Background(), p)
			return err
		},
		"negative retries": func() error {
			_, err := c.Chat.Completions.New(context.Background(), chatParams(), WithMaxRetries(-1))
			return err
		},
		"header with CRLF": func() error {
			_, err := c.Chat.Completions.New(context.Background(), chatParams(), WithHeader("X-Evil", "a\r\nInjected: yes"))
			return err
		},
		"empty prompt": func() error {
			_, err := c.Completions.New(context.Background(), CompletionNewParams{Model: "m"})
			return err
		},
		"empty model id": func() error { _, err := c.Models.Get(context.Background(), ""); return err },
		"empty call-level API key": func() error {
			_, err := c.Chat.Completions.New(context.Background(), chatParams(), WithAPIKey(""))
			return err
		},
		"blank call-level API key in a stream": func() error {
			_, err := c.Chat.Completions.NewStreaming(context.Background(), chatParams(), WithAPIKey("  "))
			return err
		},
		"empty call-level API key for models": func() error { _, err := c.Models.List(context.Background(), WithAPIKey("")); return err },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			err := f()
			if err == nil || !strings.HasPrefix(err.Error(), "cerebras: ") {
				t.Errorf("err = %v, want a clear client error", err)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
	if _, err := c.Chat.Completions.New(context.Background(), chatParams(), WithHeader("X-Evil", "a\r\nb")); !strings.Contains(err.Error(), "CR or LF") {
		t.Errorf("CRLF error %q does not say why", err)
	}
	if _, err := c.Chat.Completions.New(context.Background(), chatParams(), WithAPIKey("")); err == nil || !strings.Contains(err.Error(), "API key") {
		t.Errorf("empty key error %q does not say why", err)
	}
}

func TestNewAndEnvironment(t *testing.T) {
	srv := newServer(t, okJSON(modelsJSON))
	t.Run("key and base URL from the environment", func(t *testing.T) {
		t.Setenv("CEREBRAS_API_KEY", "  "+testKey+"\n")
		t.Setenv("CEREBRAS_BASE_URL", srv.URL+"/")
		t.Setenv("CEREBRAS_CUSTOM_HEADERS", "X-Team: search\nX-Env: test")
		c, err := New(WithTCPWarming(false))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Models.List(context.Background(), WithHeader("X-Env", "override")); err != nil {
			t.Fatal(err)
		}
		h := srv.last().Header
		if h.Get("Authorization") != "Bearer "+testKey || h.Get("X-Team") != "search" || h.Get("X-Env") != "override" {
			t.Errorf("headers %v", h)
		}
	})
	t.Run("missing key names the variable", func(t *testing.T) {
		t.Setenv("CEREBRAS_API_KEY", "   ")
		_, err := New(WithTCPWarming(false))
		if err == nil || !strings.Contains(err.Error(), "CEREBRAS_API_KEY") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("WithoutEnvironment ignores it", func(t *testing.T) {
		t.Setenv("CEREBRAS_API_KEY", testKey)
		if _, err := New(WithoutEnvironment(), WithTCPWarming(false)); err == nil {
			t.Error("New used the environment's key")
		}
		t.Setenv("CEREBRAS_BASE_URL", "http://127.0.0.1:1")
		c, err := New(WithoutEnvironment(), WithAPIKey("k"), WithTCPWarming(false))
		if err != nil || c.cfg.baseURL != DefaultBaseURL {
			t.Errorf("base URL %q, err %v", c.cfg.baseURL, err)
		}
	})
	t.Run("bad values", func(t *testing.T) {
		t.Setenv("CEREBRAS_API_KEY", testKey)
		t.Setenv("CEREBRAS_BASE_URL", "not a url")
		if _, err := New(WithTCPWarming(false)); err == nil || !strings.Contains(err.Error(), "CEREBRAS_BASE_URL") {
			t.Errorf("err = %v", err)
		}
		t.Setenv("CEREBRAS_BASE_URL", "")
		t.Setenv("CEREBRAS_CUSTOM_HEADERS", "no colon here")
		if _, err := New(WithTCPWarming(false)); err == nil || !strings.Contains(err.Error(), "CEREBRAS_CUSTOM_HEADERS") {
			t.Errorf("err = %v", err)
		}
	})
}

// withWarmupTimeout lengthens the warm-up's timeout, so that only a New or
// Close that waits for the warm-up, never a slow machine, can end it.
func withWarmupTimeout(d time.Duration) Option {
	return func(c *config) error { c.warmupTimeout = d; return nil }
}

// TestTCPWarming checks that New warms the connection in the background and
// that Close ends a stalled warm-up at once. The warm-up's server stalls until
// the test ends and its timeout is an hour, so a New or Close that waited for
// it would never return: each gets a minute, which no machine needs.
func TestTCPWarming(t *testing.T) {
	hit := make(chan http.Header, 1)
	release := make(chan struct{})
	defer close(release)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/v1/tcp_warming" {
			hit <- r.Header
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		writeJSON(w, 200, `{}`)
	})
	warmErr := make(chan error, 1)
	record := WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
		resp, err := next(r)
		if r.URL.Path == "/v1/tcp_warming" {
			warmErr <- err
		}
		return resp, err
	})
	newDone := make(chan *Client, 1)
	go func() {
		c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), withWarmupTimeout(time.Hour), record)
		if err != nil {
			t.Error(err)
		}
		newDone <- c
	}()
	var c *Client
	select {
	case c = <-newDone:
	case <-time.After(time.Minute):
		t.Fatal("New blocked on the stalled warm-up")
	}
	if c == nil {
		t.FailNow()
	}
	select {
	case h := <-hit:
		if h.Get("Authorization") != "Bearer "+testKey || h.Get("X-Stainless-Retry-Count") != "0" {
			t.Errorf("warming headers %v", h)
		}
	case <-time.After(time.Minute):
		t.Fatal("no warming request")
	}
	closed := make(chan struct{})
	go func() { _ = c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waited for the stalled warm-up")
	}
	if err := <-warmErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the warm-up ended with %v, want context.Canceled by Close", err)
	}
	// Calls never warm again, and an unreachable server never fails New.
	if c2, err := New(WithAPIKey(testKey), WithBaseURL("http://127.0.0.1:1"), WithoutEnvironment()); err != nil {
		t.Fatal(err)
	} else {
		c2.Close()
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("%d requests, want only the one warm-up", got)
	}
}

func TestOptions(t *testing.T) {
	t.Run("query, headers, removal and extra body", func(t *testing.T) {
		srv := newServer(t, okJSON(chatJSON))
		c, _ := newTestClient(t, srv, WithHeader("X-Client", "1"), WithQuery("a", "1"))
		_, err := c.Chat.Completions.New(context.Background(), chatParams(), WithHeader("X-Call", "2"), WithQuery("b", "2"),
			WithoutHeader("X-Stainless-Retry-Count"), WithExtraBody(map[string]any{"new_param": true, "model": "override"}))
		if err != nil {
			t.Fatal(err)
		}
		r := srv.last()
		if r.Header.Get("X-Client") != "1" || r.Header.Get("X-Call") != "2" || r.RawQuery != "a=1&b=2" || len(r.Header.Values("X-Stainless-Retry-Count")) != 0 {
			t.Errorf("headers %v query %q", r.Header, r.RawQuery)
		}
		if string(r.Body) != `{"messages":[{"content":"Hello!","role":"user"}],"model":"override","new_param":true}` {
			t.Errorf("body %s", r.Body)
		}
		// Call options do not leak into the client.
		_, _ = c.Models.List(context.Background())
		if h := srv.last().Header; h.Get("X-Call") != "" || h.Get("X-Client") != "1" || srv.last().RawQuery != "a=1" {
			t.Errorf("call options leaked: %v %q", h, srv.last().RawQuery)
		}
	})
	t.Run("extra body in a batch", func(t *testing.T) {
		srv := newServer(t, okJSON(`{"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file_1","completion_window":"24h","status":"validating","created_at":1}`))
		c, _ := newTestClient(t, srv)
		_, err := c.Batches.New(context.Background(), BatchNewParams{InputFileID: "file_1", Endpoint: BatchEndpointChatCompletions, CompletionWindow: BatchCompletionWindowHours24},
			WithExtraBody(map[string]any{"new_param": 1}))
		if err != nil {
			t.Fatal(err)
		}
		if r := srv.last(); r.Method != http.MethodPost || r.Path != "/v1/batches" || !bytes.Contains(r.Body, []byte(`"new_param":1`)) || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s %s %q", r.Method, r.Path, r.Body, r.Header.Get("Content-Type"))
		}
	})
	t.Run("gzip", func(t *testing.T) {
		var raw []byte
		srv := newServer(t, okJSON(chatJSON))
		c, _ := newTestClient(t, srv, WithRequestEncoding(RequestEncodingGzip), WithMiddleware(func(r *http.Request, next Next) (*http.Response, error) {
			raw, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			return next(r)
		}))
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
			t.Fatal(err)
		}
		r := srv.last()
		if r.Header.Get("Content-Encoding") != "gzip" || len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b || !strings.Contains(string(r.Body), `"Hello!"`) || r.SpecErr != nil {
			t.Errorf("encoding %q, raw %x, decoded %s, spec %v", r.Header.Get("Content-Encoding"), raw[:min(4, len(raw))], r.Body, r.SpecErr)
		}
	})
	t.Run("middleware order and response into", func(t *testing.T) {
		srv := newServer(t, okJSON(chatJSON))
		var order []string
		mw := func(name string) Middleware {
			return func(r *http.Request, next Next) (*http.Response, error) {
				order = append(order, name)
				return next(r)
			}
		}
		c, _ := newTestClient(t, srv, WithMiddleware(mw("client")))
		var resp *http.Response
		if _, err := c.Chat.Completions.New(context.Background(), chatParams(), WithMiddleware(mw("call")), WithResponseInto(&resp)); err != nil {
			t.Fatal(err)
		}
		if strings.Join(order, ",") != "client,call" {
			t.Errorf("order %v", order)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != chatJSON {
			t.Errorf("raw response %d %s", resp.StatusCode, body)
		}
	})
	t.Run("custom doer", func(t *testing.T) {
		srv := newServer(t, okJSON(chatJSON))
		var calls atomic.Int32
		d := doerFunc(func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			return http.DefaultClient.Do(r)
		})
		c, _ := newTestClient(t, srv, WithHTTPClient(d))
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil || calls.Load() != 1 {
			t.Errorf("err %v, doer calls %d", err, calls.Load())
		}
	})
	t.Run("request timeout header and value", func(t *testing.T) {
		srv := newServer(t, okJSON(chatJSON))
		c, _ := newTestClient(t, srv, WithRequestTimeout(90*time.Second))
		_, _ = c.Chat.Completions.New(context.Background(), chatParams())
		if got := srv.last().Header.Get("X-Stainless-Timeout"); got != "90" {
			t.Errorf("X-Stainless-Timeout = %q", got)
		}
	})
	t.Run("logger logs metadata, never the key or bodies", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("X-Request-Id", "req-log")
			if n == 0 {
				w.Header().Set("Retry-After-Ms", "1")
				writeJSON(w, 500, `{"error":{"message":"boom `+testKey+`"}}`)
				return
			}
			writeJSON(w, 200, chatJSON)
		})
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c, _ := newTestClient(t, srv, WithLogger(logger))
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"method=POST", "path=/v1/chat/completions", "status=500", "status=200", "attempt=1", "request_id=req-log", "retrying"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		for _, never := range []string{testKey, "Hello!", "boom"} {
			if strings.Contains(out, never) {
				t.Errorf("log holds %q:\n%s", never, out)
			}
		}
	})
	t.Run("invalid options", func(t *testing.T) {
		for name, o := range map[string]Option{
			"base URL":     WithBaseURL("ftp://x"),
			"nil doer":     WithHTTPClient(nil),
			"header name":  WithHeader("Bad Name", "v"),
			"timeout":      WithRequestTimeout(-1),
			"retry delay":  WithMaxRetryDelay(-1),
			"idle timeout": WithStreamIdleTimeout(-1),
			"event size":   WithMaxEventSize(0),
			"cf-ray":       WithCFRay("a\nb"),
			"key":          WithAPIKey("a\rb"),
		} {
			if _, err := New(WithAPIKey("k"), WithoutEnvironment(), WithTCPWarming(false), o); err == nil {
				t.Errorf("%s: New accepted an invalid option", name)
			}
		}
	})
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func TestMalformedSuccessIsAnError(t *testing.T) {
	for name, body := range map[string]string{"empty": "", "not json": "<html>oops</html>", "wrong type": `{"id":5}`} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, okJSON(body))
			c, _ := newTestClient(t, srv)
			cc, err := c.Chat.Completions.New(context.Background(), chatParams())
			var re *ResponseError
			if cc != nil || !errors.As(err, &re) || re.StatusCode != 200 {
				t.Errorf("completion %v, err %v", cc, err)
			}
		})
	}
}

// TestCompletionWithoutChoicesIsAnError: New promises at least one choice,
// so resp.Choices[0] cannot panic.
func TestCompletionWithoutChoicesIsAnError(t *testing.T) {
	ctx := context.Background()
	for name, body := range map[string]string{
		"chat":       `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}`,
		"completion": `{"id":"x","object":"text_completion","created":1,"model":"m"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, okJSON(body))
			c, _ := newTestClient(t, srv)
			var err error
			if name == "chat" {
				_, err = c.Chat.Completions.New(ctx, chatParams())
			} else {
				_, err = c.Completions.New(ctx, CompletionNewParams{Model: "m", Prompt: Prompt("a")})
			}
			var re *ResponseError
			if !errors.As(err, &re) || !errors.Is(err, errNoChoices) {
				t.Fatalf("err %v, want a *ResponseError for the missing choices", err)
			}
		})
	}
}

// TestNonObjectSuccessIsAnError: every response type is a JSON object, so a
// 200 whose body is null, an array, a number, a string or a boolean is a
// *ResponseError for every call, never an empty value and a nil error.
func TestNonObjectSuccessIsAnError(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(c *Client) (any, error){
		"chat": func(c *Client) (any, error) { return c.Chat.Completions.New(ctx, chatParams()) },
		"completion": func(c *Client) (any, error) {
			return c.Completions.New(ctx, CompletionNewParams{Model: "m", Prompt: Prompt("a")})
		},
		"models list":        func(c *Client) (any, error) { return c.Models.List(ctx) },
		"models list format": func(c *Client) (any, error) { return c.Models.ListFormat(ctx, gen.ModelFormatOpenrouter) },
		"models get":         func(c *Client) (any, error) { return c.Models.Get(ctx, "m") },
		"models get format":  func(c *Client) (any, error) { return c.Models.GetFormat(ctx, "m", gen.ModelFormatHuggingface) },
	}
	for _, body := range []string{"null", " null\n", "[]", `[{"id":"x"}]`, "1", `"x"`, "true"} {
		srv := newServer(t, okJSON(body))
		c, _ := newTestClient(t, srv)
		for name, call := range calls {
			t.Run(name+"/"+body, func(t *testing.T) {
				v, err := call(c)
				var re *ResponseError
				if !errors.As(err, &re) || re.StatusCode != 200 || !strings.Contains(err.Error(), "JSON object") {
					t.Fatalf("value %+v, err %v; want a *ResponseError saying a JSON object was expected", v, err)
				}
				if rv := reflect.ValueOf(v); !rv.IsNil() {
					t.Errorf("value %+v alongside the error", v)
				}
			})
		}
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	hc := defaultHTTPClient()
	tr := hc.Transport.(*http.Transport)
	if hc.Timeout != 0 || tr.ResponseHeaderTimeout == 0 || tr.DialContext == nil {
		t.Errorf("timeout %v, header timeout %v", hc.Timeout, tr.ResponseHeaderTimeout)
	}
	// Connections are reused across calls.
	var conns atomic.Int32
	srv := newServer(t, okJSON(chatJSON), func(s *httptest.Server) {
		s.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
	})
	c, _ := newTestClient(t, srv)
	for range 5 {
		if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
			t.Fatal(err)
		}
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections for 5 sequential calls", conns.Load())
	}
}

func TestResponseDecodesUnknownFields(t *testing.T) {
	srv := newServer(t, okJSON(`{"id":"x","object":"chat.completion","created":1,"model":"m","new_field":{"a":1},"choices":[{"index":0,"finish_reason":"brand_new","message":{"role":"assistant","content":"ok"}}]}`))
	c, _ := newTestClient(t, srv)
	cc, err := c.Chat.Completions.New(context.Background(), chatParams())
	if err != nil || cc.Choices[0].FinishReason != "brand_new" {
		t.Fatalf("%v %v", cc, err)
	}
	if b, _ := json.Marshal(cc); !bytes.Contains(b, []byte("brand_new")) {
		t.Error("round trip lost the value")
	}
}

// TestBaseURLWithV1Suffix: OpenAI-compatible clients (and Cerebras's own
// OpenAI-compatibility docs) put /v1 in the base URL. The same base, with or
// without it, must reach the same paths, from WithBaseURL and from
// CEREBRAS_BASE_URL alike.
func TestBaseURLWithV1Suffix(t *testing.T) {
	srv := newServer(t, okJSON(chatJSON))
	cases := []struct {
		name, base, wantPath string
	}{
		{"bare host", srv.URL, "/v1/chat/completions"},
		{"trailing slash", srv.URL + "/", "/v1/chat/completions"},
		{"v1", srv.URL + "/v1", "/v1/chat/completions"},
		{"v1 and slash", srv.URL + "/v1/", "/v1/chat/completions"},
		{"v1 and slashes", srv.URL + "/v1//", "/v1/chat/completions"},
		{"proxy prefix", srv.URL + "/proxy", "/proxy/v1/chat/completions"},
		{"proxy prefix and v1", srv.URL + "/proxy/v1", "/proxy/v1/chat/completions"},
		{"only one v1 is dropped", srv.URL + "/v1/v1", "/v1/v1/chat/completions"},
		{"v1 inside a segment is kept", srv.URL + "/apiv1", "/apiv1/v1/chat/completions"},
	}
	for _, tc := range cases {
		for _, from := range []string{"WithBaseURL", "CEREBRAS_BASE_URL"} {
			t.Run(tc.name+"/"+from, func(t *testing.T) {
				opts := []Option{WithAPIKey(testKey), WithTCPWarming(false)}
				if from == "WithBaseURL" {
					opts = append(opts, WithoutEnvironment(), WithBaseURL(tc.base))
				} else {
					t.Setenv("CEREBRAS_BASE_URL", tc.base)
					t.Setenv("CEREBRAS_CUSTOM_HEADERS", "")
				}
				c, err := New(opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Chat.Completions.New(context.Background(), chatParams()); err != nil {
					t.Fatal(err)
				}
				if got := srv.last().Path; got != tc.wantPath {
					t.Errorf("base %q requested %s, want %s", tc.base, got, tc.wantPath)
				}
			})
		}
	}
}

// TestCustomHeadersCannotReplaceTheKey: an Authorization line in
// CEREBRAS_CUSTOM_HEADERS (inherited from a shell, a CI job …) would silently
// replace the API key, so New refuses it and names the line. WithHeader, an
// explicit choice in code, may still set it, as in openai-go.
func TestCustomHeadersCannotReplaceTheKey(t *testing.T) {
	srv := newServer(t, okJSON(modelsJSON))
	t.Setenv("CEREBRAS_API_KEY", testKey)
	t.Setenv("CEREBRAS_BASE_URL", srv.URL)
	for _, headers := range []string{
		"X-Team: search\nAuthorization: Bearer other-key",
		"X-Team: search\n authorization :Basic b3RoZXI=",
		"X-Team: search\nAUTHORIZATION: x",
	} {
		t.Setenv("CEREBRAS_CUSTOM_HEADERS", headers)
		c, err := New(WithTCPWarming(false))
		if err == nil {
			_, _ = c.Models.List(context.Background())
			c.Close()
			t.Errorf("%q: New accepted it; the server saw Authorization %q", headers, srv.last().Header.Get("Authorization"))
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "CEREBRAS_CUSTOM_HEADERS line 2") || !strings.Contains(msg, "Authorization") ||
			strings.Contains(msg, "other") || strings.Contains(msg, "b3RoZXI=") {
			t.Errorf("%q: err = %q, want it to name the variable, line 2 and the header, not the value", headers, msg)
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests were sent", n)
	}

	t.Setenv("CEREBRAS_CUSTOM_HEADERS", "X-Team: search")
	c, err := New(WithTCPWarming(false), WithHeader("Authorization", "Basic b3RoZXI="))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Models.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := srv.last().Header; h.Get("Authorization") != "Basic b3RoZXI=" || h.Get("X-Team") != "search" {
		t.Errorf("WithHeader: headers %v", h)
	}
}

// TestTCPWarmingSendsItsOwnTimeout: the warm-up runs under a 1 s timeout
// whatever the client's request timeout, so its X-Stainless-Timeout must say
// 1, not the client's value.
func TestTCPWarmingSendsItsOwnTimeout(t *testing.T) {
	for name, opt := range map[string]Option{
		"default timeout": nil,
		"90 s timeout":    WithRequestTimeout(90 * time.Second),
		"no timeout":      WithRequestTimeout(0),
	} {
		t.Run(name, func(t *testing.T) {
			hit := make(chan http.Header, 1)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/v1/tcp_warming" {
					hit <- r.Header
				}
				writeJSON(w, 200, `{}`)
			})
			c, err := New(WithAPIKey(testKey), WithBaseURL(srv.URL), WithoutEnvironment(), opt)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			select {
			case h := <-hit:
				if got := h.Values("X-Stainless-Timeout"); len(got) != 1 || got[0] != "1" {
					t.Errorf("warm-up X-Stainless-Timeout = %q, want [1]", got)
				}
			case <-time.After(30 * time.Second): // only bounds a broken test; the warm-up is sent at once
				t.Fatal("no warm-up request")
			}
		})
	}
}

// TestToolMessageAnswersTheCall: ToolMessage takes the tool call itself,
// from a response or from a stream's accumulator, so its id and the result
// cannot be swapped; the server must receive the call's id as tool_call_id.
func TestToolMessageAnswersTheCall(t *testing.T) {
	const (
		toolCallJSON = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}]}`
		chunk        = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,%s}]}` + "\n\n"
		wantTool     = `{"content":"21 C and sunny","role":"tool","tool_call_id":"call_abc"}`
	)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body := readAll(r)
		switch {
		case strings.Contains(body, `"role":"tool"`):
			writeJSON(w, 200, chatJSON)
		case strings.Contains(body, `"stream":true`):
			w.Header().Set("Content-Type", "text/event-stream")
			for _, part := range []string{
				`"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`,
				`"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`,
				`"delta":{},"finish_reason":"tool_calls"`,
			} {
				_, _ = fmt.Fprintf(w, chunk, part)
			}
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
		default:
			writeJSON(w, 200, toolCallJSON)
		}
	})
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	answer := func(name string, m ChatMessage) {
		t.Helper()
		if _, err := c.Chat.Completions.New(ctx, ChatCompletionNewParams{Model: "m", Messages: []ChatMessage{UserMessage("Weather in Paris?"), m}}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var sent struct{ Messages []json.RawMessage }
		if err := json.Unmarshal(srv.last().Body, &sent); err != nil || len(sent.Messages) != 2 || string(sent.Messages[1]) != wantTool {
			t.Errorf("%s: sent %s, want the tool message %s", name, srv.last().Body, wantTool)
		}
	}

	resp, err := c.Chat.Completions.New(ctx, chatParams())
	if err != nil {
		t.Fatal(err)
	}
	answer("from a response", ToolMessage(resp.Choices[0].Message.ToolCalls[0], "21 C and sunny"))

	stream, err := c.Chat.Completions.NewStreaming(ctx, chatParams())
	if err != nil {
		t.Fatal(err)
	}
	var acc streaming.ChatCompletionAccumulator
	var finished []streaming.FinishedToolCall
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		acc.AddChunk(chunk)
		finished = append(finished, acc.JustFinishedToolCalls()...)
	}
	if len(finished) != 1 {
		t.Fatalf("finished tool calls %+v", finished)
	}
	answer("from a stream", ToolMessage(finished[0], "21 C and sunny"))
}
