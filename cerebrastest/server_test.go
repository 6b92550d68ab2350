package cerebrastest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/streaming"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// patience is the timeout of a test whose server stalls on purpose: the
// stall lasts until the client gives up, so it always fires, and an answer
// that is not stalled must come within it, so it is far longer than a
// loaded 2-core machine needs (2 s was not, beside a CPU hog).
const patience = 15 * time.Second

func setup(t *testing.T, opts ...cerebrastest.Option) (*cerebrastest.Server, *client.Client) {
	t.Helper()
	srv := cerebrastest.NewServer(t, append([]cerebrastest.Option{cerebrastest.WithSpecFile("../openapi.yaml")}, opts...)...)
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test-key"), client.WithoutEnvironment(), client.WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return srv, c
}

// accumulate reads a chat stream to its end through an accumulator, and
// returns it with the tool calls it reported finished, in order.
func accumulate(t *testing.T, stream *streaming.Stream[client.ChatCompletionChunk]) (*streaming.ChatCompletionAccumulator, []streaming.FinishedToolCall) {
	t.Helper()
	var acc streaming.ChatCompletionAccumulator
	var finished []streaming.FinishedToolCall
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		acc.AddChunk(chunk)
		finished = append(finished, acc.JustFinishedToolCalls()...)
	}
	return &acc, finished
}

func chat(text string) client.ChatCompletionNewParams {
	return client.ChatCompletionNewParams{Model: client.ModelGemma431B, Messages: []client.ChatMessage{client.UserMessage(text)}}
}

// post sends a raw body, for requests the SDK would refuse to build.
func post(t *testing.T, srv *cerebrastest.Server, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestInvalidRequestsAreRejected(t *testing.T) {
	srv, _ := setup(t)
	cases := []struct {
		name, path, body string
		header           map[string]string
		status           int
		want             []string
	}{
		{"missing messages", "/v1/chat/completions", `{"model":"gemma-4-31b"}`, nil, 422, []string{`"loc":["body","messages"]`, "messages"}},
		{"missing model", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, nil, 422, []string{`"body","model"`}},
		{"bad tool_choice", "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"user","content":"hi"}],"tool_choice":"bogus"}`, nil, 422, []string{"tool_choice"}},
		{"unknown role", "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"wizard","content":"hi"}]}`, nil, 422, []string{"messages"}},
		{"temperature as string", "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`, nil, 422, []string{"temperature"}},
		{"tool message without id", "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"tool","content":"x"}]}`, nil, 422, []string{"messages"}},
		{"invalid JSON", "/v1/chat/completions", `{"model":`, nil, 422, []string{"json_invalid"}},
		{"header out of range", "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"queue_threshold": "10"}, 422, []string{`"loc":["header","queue_threshold"]`}},
		{"unknown model", "/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`, nil, 404, []string{"model_not_found"}},
		{"tool_choice without tools", "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}`, nil, 400, []string{`"param":"tool_choice"`}},
		{"completion without prompt", "/v1/completions", `{"model":"gemma-4-31b"}`, nil, 422, []string{"prompt"}},
		{"unknown path", "/v1/nothing", `{}`, nil, 404, []string{"Not Found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, srv, tc.path, tc.body, tc.header)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %s does not contain %s", body, w)
				}
			}
		})
	}
	t.Run("no API key", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("through the SDK the 422 is an APIError naming the field", func(t *testing.T) {
		_, c := setup(t)
		_, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{Model: client.ModelGemma431B,
			Messages: []client.ChatMessage{client.UserMessage("hi")}}, client.WithQueueThreshold(5))
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || !strings.Contains(apiErr.Message, "header.queue_threshold") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestChatEchoAndStreamAgree(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	resp, err := c.Chat.Completions.New(ctx, chat("Tell me about wafers"))
	if err != nil {
		t.Fatal(err)
	}
	want := "You said: Tell me about wafers"
	if got := resp.Choices[0].Message.Content; got != want || resp.Choices[0].FinishReason != gen.FinishReasonStop {
		t.Errorf("content %q", got)
	}
	if resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens || resp.TimeInfo == nil {
		t.Errorf("usage %+v", resp.Usage)
	}
	stream, err := c.Chat.Completions.NewStreaming(ctx, chat("Tell me about wafers"))
	if err != nil {
		t.Fatal(err)
	}
	var acc streaming.ChatCompletionAccumulator
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		acc.AddChunk(chunk)
	}
	got := acc.ChatCompletion()
	if got.Choices[0].Message.Content != want || got.Usage == nil || got.TimeInfo == nil || acc.Chunks() < 6 {
		t.Errorf("streamed %q in %d chunks, usage %v", got.Choices[0].Message.Content, acc.Chunks(), got.Usage)
	}
}

func TestChatParameters(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	t.Run("n choices", func(t *testing.T) {
		p := chat("hi")
		p.N = client.Int(3)
		resp, err := c.Chat.Completions.New(ctx, p)
		if err != nil || len(resp.Choices) != 3 || resp.Choices[0].Message.Content == resp.Choices[2].Message.Content {
			t.Fatalf("%v %v", resp, err)
		}
	})
	t.Run("stop", func(t *testing.T) {
		p := chat("one two three")
		p.Stop = client.Stop(" three")
		resp, _ := c.Chat.Completions.New(ctx, p)
		if resp.Choices[0].Message.Content != "You said: one two" {
			t.Errorf("%q", resp.Choices[0].Message.Content)
		}
	})
	t.Run("max tokens", func(t *testing.T) {
		p := chat("one two three four")
		p.MaxCompletionTokens = client.Int(2)
		resp, _ := c.Chat.Completions.New(ctx, p)
		if resp.Choices[0].Message.Content != "You said:" || resp.Choices[0].FinishReason != gen.FinishReasonLength {
			t.Errorf("%q %v", resp.Choices[0].Message.Content, resp.Choices[0].FinishReason)
		}
	})
	t.Run("logprobs", func(t *testing.T) {
		p := chat("hi there")
		p.Logprobs, p.TopLogprobs = client.Bool(true), client.Int(2)
		resp, _ := c.Chat.Completions.New(ctx, p)
		lp := resp.Choices[0].Logprobs
		if lp == nil || len(lp.Content) != 4 || len(lp.Content[0].TopLogprobs) != 2 {
			t.Errorf("logprobs %+v", lp)
		}
	})
	t.Run("reasoning", func(t *testing.T) {
		p := chat("think")
		p.Model = client.ModelGPTOSS120B
		resp, _ := c.Chat.Completions.New(ctx, p)
		if resp.Choices[0].Message.Reasoning == "" {
			t.Error("no reasoning from a reasoning model")
		}
		p.ReasoningFormat = client.Ptr(gen.ReasoningFormatHidden)
		resp, _ = c.Chat.Completions.New(ctx, p)
		if resp.Choices[0].Message.Reasoning != "" {
			t.Error("hidden reasoning was sent")
		}
	})
	t.Run("json object", func(t *testing.T) {
		p := chat("hi")
		p.ResponseFormat = client.ResponseFormatJSONObject()
		resp, _ := c.Chat.Completions.New(ctx, p)
		if !json.Valid([]byte(resp.Choices[0].Message.Content)) {
			t.Errorf("%q", resp.Choices[0].Message.Content)
		}
	})
	t.Run("json schema", func(t *testing.T) {
		type report struct {
			City    string   `json:"city"`
			Degrees int      `json:"degrees"`
			Sunny   bool     `json:"sunny"`
			Tags    []string `json:"tags"`
			Next    *report  `json:"next"`
		}
		p := chat("Paris weather")
		var err error
		if p.ResponseFormat, err = client.ResponseFormatFor[report](); err != nil {
			t.Fatal(err)
		}
		resp, _ := c.Chat.Completions.New(ctx, p)
		r, err := client.DecodeContent[report](resp.Choices[0].Message)
		if err != nil || r.City == "" || r.Degrees != 1 || !r.Sunny || len(r.Tags) != 1 {
			t.Errorf("%+v %v (%q)", r, err, resp.Choices[0].Message.Content)
		}
	})
}

func TestToolRoundTrip(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	type args struct {
		City string `json:"city"`
		Unit string `json:"unit"`
	}
	tool, err := client.FunctionToolFor[args]("get_weather", "Weather for a city")
	if err != nil {
		t.Fatal(err)
	}
	p := chat("What is the weather in Paris?")
	p.Tools = []client.Tool{tool}
	p.ToolChoice = client.ToolChoiceRequired()
	resp, err := c.Chat.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	msg := resp.Choices[0].Message
	if resp.Choices[0].FinishReason != gen.FinishReasonToolCalls || len(msg.ToolCalls) != 1 {
		t.Fatalf("%+v", resp.Choices[0])
	}
	a, err := client.DecodeArguments[args](msg.ToolCalls[0])
	if err != nil || a.City == "" {
		t.Fatalf("arguments %+v %v", a, err)
	}
	p.Messages = append(p.Messages, client.AssistantMessageFrom(msg), client.ToolMessage(msg.ToolCalls[0], "21 C and sunny"))
	p.ToolChoice = client.ToolChoiceAuto()
	final, err := c.Chat.Completions.New(ctx, p)
	if err != nil || final.Choices[0].Message.Content != "According to the tool: 21 C and sunny" {
		t.Fatalf("%v %v", final, err)
	}

	// Streamed, the tool call arrives in fragments the accumulator joins.
	p.Messages = p.Messages[:1]
	p.ToolChoice = client.ToolChoiceFunction("get_weather")
	stream, err := c.Chat.Completions.NewStreaming(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	acc, finished := accumulate(t, stream)
	if len(finished) != 1 || finished[0].Err != nil || finished[0].Name != "get_weather" || acc.ChatCompletion().Choices[0].Message.ToolCalls[0].Function.Arguments != msg.ToolCalls[0].Function.Arguments {
		t.Errorf("finished %+v", finished)
	}
}

func TestCompletionsAndModels(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	comp, err := c.Completions.New(ctx, client.CompletionNewParams{Model: client.ModelGemma431B, Prompt: client.Prompt("Once"), MaxTokens: client.Int(4), Logprobs: client.Int(1)})
	if err != nil || comp.Choices[0].FinishReason != gen.FinishReasonLength || comp.Choices[0].Logprobs == nil {
		t.Fatalf("%+v %v", comp, err)
	}
	stream, err := c.Completions.NewStreaming(ctx, client.CompletionNewParams{Model: client.ModelGemma431B, Prompt: client.Prompt("Once"), MaxTokens: client.Int(4)})
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chunk.Choices {
			text += ch.Text
		}
	}
	if text != comp.Choices[0].Text {
		t.Errorf("streamed %q, want %q", text, comp.Choices[0].Text)
	}
	models, err := c.Models.List(ctx)
	if err != nil || len(models.Data) < 3 {
		t.Fatalf("%v %v", models, err)
	}
	m, err := c.Models.Get(ctx, "gpt-oss-120b")
	if err != nil || m.ID != "gpt-oss-120b" {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := c.Models.Get(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	// A retired model is gone, as from the real API: 404 model_not_found.
	if _, err := c.Models.Get(ctx, "llama3.1-8b"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Models.Get of a retired model: err = %v", err)
	}
	retired := chat("hi")
	retired.Model = "llama-3.3-70b"
	var apiErr *client.APIError
	if _, err := c.Chat.Completions.New(ctx, retired); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Errorf("chat with a retired model: err = %v", err)
	}
	hf, err := c.Models.GetFormat(ctx, client.ModelGemma431B, gen.ModelFormatHuggingface)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := hf.AsHuggingFaceModel(); err != nil || h.ContextLength == 0 {
		t.Errorf("%+v %v", h, err)
	}
	if _, err := c.Models.ListFormat(ctx, gen.ModelFormatOpenrouter); err != nil {
		t.Error(err)
	}
}

func TestScriptedResponsesAndFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("errors and rate limits", func(t *testing.T) {
		srv, c := setup(t)
		srv.Enqueue(cerebrastest.RateLimited(time.Millisecond), cerebrastest.ErrorResponse(500, "server_error", "boom", "boom"))
		resp, err := c.Chat.Completions.New(ctx, chat("hi"))
		if err != nil || len(srv.Requests()) != 3 {
			t.Fatalf("%v %v after %d requests", resp, err, len(srv.Requests()))
		}
		srv.Enqueue(cerebrastest.ErrorResponse(400, "invalid_request_error", "bad", "no"))
		if _, err := c.Chat.Completions.New(ctx, chat("hi")); !errors.Is(err, client.ErrBadRequest) {
			t.Errorf("err = %v", err)
		}
		var req map[string]any
		_ = json.Unmarshal(srv.Requests()[0].Body, &req)
		if req["model"] != client.ModelGemma431B || srv.Requests()[0].Header.Get("Authorization") != "Bearer test-key" {
			t.Errorf("recorded %v", req)
		}
	})
	t.Run("fault header fails the first attempt only", func(t *testing.T) {
		srv, c := setup(t)
		resp, err := c.Chat.Completions.New(ctx, chat("hi"), client.WithHeader(cerebrastest.FaultHeader, "429-once"))
		if err != nil || resp == nil || len(srv.Requests()) != 2 {
			t.Fatalf("%v after %d requests", err, len(srv.Requests()))
		}
	})
	faults := []struct {
		resp  cerebrastest.Response
		check func(error) bool
	}{
		{cerebrastest.Response{Fault: cerebrastest.ResetMidStream, After: 2}, func(err error) bool {
			return errors.Is(err, streaming.ErrTruncated) || strings.Contains(err.Error(), "connection")
		}},
		{cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 3}, func(err error) bool { return errors.Is(err, streaming.ErrTruncated) }},
		{cerebrastest.Response{Fault: cerebrastest.InBandError, After: 2, Status: 503}, func(err error) bool { return errors.Is(err, client.ErrServiceUnavailable) }},
		{cerebrastest.Response{Fault: cerebrastest.StallMidStream, After: 2}, func(err error) bool { return errors.Is(err, streaming.ErrIdleTimeout) }},
	}
	for _, f := range faults {
		t.Run(f.resp.Fault.String(), func(t *testing.T) {
			srv, c := setup(t)
			srv.Enqueue(f.resp)
			stream, err := c.Chat.Completions.NewStreaming(ctx, chat("one two three four five"), client.WithStreamIdleTimeout(patience))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			var last error
			for _, err := range stream.All() {
				if err != nil {
					last = err
					break
				}
				n++
			}
			if n != f.resp.After || last == nil || !f.check(last) {
				t.Errorf("%d chunks before %v", n, last)
			}
		})
	}
	t.Run("reset and stall before headers are retried", func(t *testing.T) {
		srv, c := setup(t)
		srv.Enqueue(cerebrastest.Response{Fault: cerebrastest.ResetBeforeHeaders}, cerebrastest.Response{Fault: cerebrastest.StallBeforeHeaders})
		// The third attempt must answer within the timeout.
		resp, err := c.Chat.Completions.New(ctx, chat("hi"), client.WithRequestTimeout(patience))
		if err != nil || resp == nil || len(srv.Requests()) != 3 {
			t.Fatalf("%v after %d requests", err, len(srv.Requests()))
		}
	})
}

func TestEmbeddedSpecMatchesRepository(t *testing.T) {
	repo, err := readFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := readFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(repo, embedded) {
		t.Error("cerebrastest/openapi.yaml differs from openapi.yaml: run make generate")
	}
	// And the embedded copy alone serves.
	srv := cerebrastest.NewServer(t)
	if status, _ := post(t, srv, "/v1/chat/completions", `{"model":"gemma-4-31b","messages":[{"role":"user","content":"hi"}]}`, nil); status != 200 {
		t.Errorf("status %d", status)
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// warmedClient returns a client that warms its connection, as client.New
// does by default, and a channel that receives the warm-up's status.
func warmedClient(t *testing.T, srv *cerebrastest.Server, opts ...client.Option) (*client.Client, <-chan int) {
	t.Helper()
	warmed := make(chan int, 1)
	opts = append(opts, client.WithBaseURL(srv.URL), client.WithAPIKey("test-key"), client.WithoutEnvironment(),
		client.WithMiddleware(func(r *http.Request, next client.Next) (*http.Response, error) {
			resp, err := next(r)
			if r.URL.Path == "/v1/tcp_warming" && err == nil {
				warmed <- resp.StatusCode
			}
			return resp, err
		}))
	c, err := client.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, warmed
}

func TestWarmupIsOutsideTheScript(t *testing.T) {
	ctx := context.Background()
	t.Run("answered, not scripted, not recorded", func(t *testing.T) {
		srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
		srv.Enqueue(cerebrastest.ErrorResponse(400, "invalid_request_error", "scripted", "for the chat call"))
		c, warmed := warmedClient(t, srv)
		if status := <-warmed; status != 200 {
			t.Errorf("warm-up status %d, want 200 from outside the script", status)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("Requests() lists %d requests before any API call", n)
		}
		if _, err := c.Chat.Completions.New(ctx, chat("hi")); !errors.Is(err, client.ErrBadRequest) {
			t.Errorf("the chat call got %v, want the scripted 400", err)
		}
		if got := srv.Requests(); len(got) != 1 || got[0].Path != "/v1/chat/completions" {
			t.Errorf("Requests() = %+v, want the chat call only", got)
		}
	})
	t.Run("the fault header skips it too", func(t *testing.T) {
		srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"))
		_, warmed := warmedClient(t, srv, client.WithHeader(cerebrastest.FaultHeader, "503-once"))
		if status := <-warmed; status != 200 {
			t.Errorf("warm-up status %d, want 200", status)
		}
	})
	t.Run("WithWarmupRequests lists it", func(t *testing.T) {
		srv := cerebrastest.NewServer(t, cerebrastest.WithSpecFile("../openapi.yaml"), cerebrastest.WithWarmupRequests(true))
		_, warmed := warmedClient(t, srv)
		<-warmed
		if got := srv.Requests(); len(got) != 1 || got[0].Method != http.MethodGet || got[0].Path != "/v1/tcp_warming" {
			t.Errorf("Requests() = %+v, want the warm-up", got)
		}
	})
}

func TestScriptedResponseWithPath(t *testing.T) {
	ctx := context.Background()
	srv, c := setup(t)
	srv.Enqueue(cerebrastest.Response{Path: "/v1/chat/completions", Status: 500, Body: `{"error":{"message":"for chat","type":"server_error","param":null,"code":"scripted"}}`})
	if _, err := c.Models.List(ctx); err != nil {
		t.Errorf("models.list took the chat call's scripted response: %v", err)
	}
	_, err := c.Chat.Completions.New(ctx, chat("hi"), client.WithMaxRetries(0))
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "scripted" {
		t.Errorf("the chat call got %v, want the scripted 500", err)
	}
	if _, err := c.Chat.Completions.New(ctx, chat("hi")); err != nil {
		t.Errorf("the script was used up, yet: %v", err)
	}
}

// TestPublicModelsNeedNoKey: the public catalogue answers without an API key,
// and the client sends none to it, even though it has one.
func TestPublicModelsNeedNoKey(t *testing.T) {
	srv := cerebrastest.NewServer(t, cerebrastest.WithAPIKey("test-key"))
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test-key"), client.WithoutEnvironment(), client.WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	list, err := c.Models.ListPublic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) == 0 || list.Data[0].Limits.MaxContextLength == 0 || list.Data[0].ID == "" {
		t.Fatalf("catalogue %+v", list)
	}
	m, err := c.Models.GetPublic(ctx, client.ModelGPTOSS120B)
	if err != nil || m.ID != client.ModelGPTOSS120B || !m.Capabilities.Reasoning {
		t.Fatalf("GetPublic = %+v, %v", m, err)
	}
	if _, err := c.Models.GetPublic(ctx, "no-such-model"); err == nil {
		t.Error("an unknown public model did not fail")
	}
	for _, r := range srv.Requests() {
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, h)
		}
	}
	// The private list still needs the key.
	if _, err := c.Models.List(ctx); err != nil {
		t.Fatal(err)
	}
	if reqs := srv.Requests(); reqs[len(reqs)-1].Header.Get("Authorization") != "Bearer test-key" {
		t.Error("the private model list was sent without the key")
	}
}

// TestCataloguePricesAgree: the public catalogue, and the openrouter and
// huggingface formats of the models list, give each model the same prices
// (per token as decimal strings, per million tokens as numbers), and those
// the package doc states.
func TestCataloguePricesAgree(t *testing.T) {
	srv := cerebrastest.NewServer(t)
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment(), client.WithTCPWarming(false))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	public, err := c.Models.ListPublic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	or, err := c.Models.ListFormat(ctx, client.ModelFormatOpenrouter)
	if err != nil {
		t.Fatal(err)
	}
	orList, _ := or.AsOpenRouterModelList()
	hf, err := c.Models.ListFormat(ctx, client.ModelFormatHuggingface)
	if err != nil {
		t.Fatal(err)
	}
	hfList, _ := hf.AsHuggingFaceModelList()
	perMtok := func(perToken string) string { // exactly
		r, ok := new(big.Rat).SetString(perToken)
		if !ok {
			t.Fatalf("price %q is not a decimal", perToken)
		}
		return r.Mul(r, big.NewRat(1_000_000, 1)).FloatString(4)
	}
	got := map[string]string{}
	for i, m := range public.Data {
		p := m.Pricing
		got[m.ID] = fmt.Sprintf("%s %s %s", perMtok(p.Prompt), perMtok(p.Completion), p.InputCacheRead)
		if o := orList.Data[i]; o.ID != "cerebras/"+m.ID || o.Pricing != p {
			t.Errorf("openrouter format: %s at %+v; the catalogue: %s at %+v", o.ID, o.Pricing, m.ID, p)
		}
		if h := hfList.Data[i]; h.ID != m.ID || fmt.Sprintf("%.4f %.4f", h.Pricing.Input, h.Pricing.Output) != fmt.Sprintf("%s %s", perMtok(p.Prompt), perMtok(p.Completion)) {
			t.Errorf("huggingface format: %s at %+v; the catalogue: %s at %+v", h.ID, h.Pricing, m.ID, p)
		}
	}
	want := map[string]string{
		client.ModelGPTOSS120B: "0.3500 0.7500 ",
		client.ModelZaiGLM47:   "2.2500 2.7500 0.0000005625",
		client.ModelGemma431B:  "0.2000 0.4000 ",
	}
	if !maps.Equal(got, want) {
		t.Errorf("prices per million tokens (prompt, completion, cached per token): %q, want %q", got, want)
	}
}
