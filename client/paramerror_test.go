package client

import (
	"context"
	"errors"
	"math"
	"testing"
)

// TestInputErrorsAreParamErrors: every error the SDK raises before sending
// is a *ParamError naming what is wrong, matches ErrInvalidInput, and nothing
// reaches the server.
func TestInputErrorsAreParamErrors(t *testing.T) {
	srv := newServer(t, okJSON(`{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}`))
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	chat := func(mod func(*ChatCompletionNewParams), opts ...Option) func() error {
		return func() error {
			p := chatParams()
			mod(&p)
			_, err := c.Chat.Completions.New(ctx, p, opts...)
			return err
		}
	}
	keep := func(*ChatCompletionNewParams) {}
	var noCtx context.Context
	cases := []struct {
		name, param string
		run         func() error
	}{
		{"no model", "params.Model", chat(func(p *ChatCompletionNewParams) { p.Model = "" })},
		{"no messages", "params.Messages", chat(func(p *ChatCompletionNewParams) { p.Messages = nil })},
		{"message without role", "params.Messages[1]", chat(func(p *ChatCompletionNewParams) { p.Messages = append(p.Messages, ChatMessage{}) })},
		{"tool message without id", "params.Messages[1]", chat(func(p *ChatCompletionNewParams) {
			p.Messages = append(p.Messages, ToolMessage(ToolCall{}, "result"))
		})},
		{"stream in New", "params.Stream", chat(func(p *ChatCompletionNewParams) { p.Stream = Bool(true) })},
		{"nil context", "ctx", func() error { _, err := c.Chat.Completions.New(noCtx, chatParams()); return err }},
		{"empty call key", "WithAPIKey", chat(keep, WithAPIKey(""))},
		{"negative retries", "WithMaxRetries", chat(keep, WithMaxRetries(-1))},
		{"negative timeout", "WithRequestTimeout", chat(keep, WithRequestTimeout(-1))},
		{"bad header name", "WithHeader", chat(keep, WithHeader("a b", "v"))},
		{"header with CRLF", "WithHeader", chat(keep, WithHeader("X-A", "v\r\nX-B: w"))},
		{"nil HTTP client", "WithHTTPClient", chat(keep, WithHTTPClient(nil))},
		{"bad event size", "WithMaxEventSize", chat(keep, WithMaxEventSize(0))},
		{"bad response size", "WithMaxResponseSize", chat(keep, WithMaxResponseSize(0))},
		{"bad base URL", "WithBaseURL", chat(keep, WithBaseURL("ftp://x"))},
		{"empty model id", "model id", func() error { _, err := c.Models.Get(ctx, ""); return err }},
		{"dot model id", "model id", func() error { _, err := c.Models.Get(ctx, ".."); return err }},
		{"no prompt", "params.Prompt", func() error {
			_, err := c.Completions.New(ctx, CompletionNewParams{Model: "m"})
			return err
		}},
		{"no API key", "WithAPIKey", func() error { _, err := New(WithoutEnvironment()); return err }},
		{"custom Authorization", "CEREBRAS_CUSTOM_HEADERS", func() error {
			t.Setenv("CEREBRAS_CUSTOM_HEADERS", "Authorization: Bearer other")
			_, err := New(WithAPIKey(testKey))
			return err
		}},
		{"unencodable params", "params", chat(func(p *ChatCompletionNewParams) { p.Temperature = Float(math.NaN()) })},
		{"unencodable schema", "params.ResponseFormat", chat(func(p *ChatCompletionNewParams) {
			p.ResponseFormat = ResponseFormatJSONSchema("s", map[string]any{"maximum": math.Inf(1)}, true)
		})},
		{"empty response format", "params.ResponseFormat", chat(func(p *ChatCompletionNewParams) { p.ResponseFormat = &ResponseFormat{} })},
		{"unencodable extra body", "WithExtraBody", chat(keep, WithExtraBody(map[string]any{"f": func() {}}))},
		{"header param with CRLF", "WithCFRay", chat(keep, WithCFRay("a\r\nb"))},
		{"call-level base URL", "WithBaseURL", chat(keep, WithBaseURL("http://127.0.0.1:1"))},
		{"schema-less field", "struct { C chan int }", func() error { _, err := SchemaFor[struct{ C chan int }](); return err }},
		{"struct-less tool", "FunctionToolFor", func() error { _, err := FunctionToolFor[int]("f", ""); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %#v (%v), want a *ParamError", err, err)
			}
			if pe.Param != tc.param {
				t.Errorf("Param = %q, want %q (%v)", pe.Param, tc.param, err)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("errors.Is(%v, ErrInvalidInput) = false", err)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("the server received %d requests; input errors must send nothing", n)
	}
}
