package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/cerebras-go/cerebras/client"
)

// fakeAPI stands in for the Cerebras API in these examples.
func fakeAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch {
		case req["model"] == "rate-limited":
			w.Header().Set("X-Ratelimit-Remaining-Tokens-Minute", "0")
			w.Header().Set("X-Ratelimit-Reset-Tokens-Minute", "11.5")
			w.Header().Set("X-Should-Retry", "false")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message":"Tokens per minute limit exceeded - too many tokens processed.","type":"too_many_requests_error","param":"quota","code":"token_quota_exceeded"}`)
		case req["stream"] == true:
			w.Header().Set("Content-Type", "text/event-stream")
			for _, s := range []string{"Hello", ", ", "world!"} {
				fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama3.1-8b\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", s)
			}
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"llama3.1-8b","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I assist you today?"}}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}`)
		}
	}))
}

func newExampleClient(srv *httptest.Server) *client.Client {
	c, err := client.New(client.WithAPIKey("csk-example"), client.WithBaseURL(srv.URL), client.WithTCPWarming(false))
	if err != nil {
		panic(err)
	}
	return c
}

func ExampleChatCompletionService_New() {
	srv := fakeAPI()
	defer srv.Close()
	c := newExampleClient(srv) // in real code: client.New(), with CEREBRAS_API_KEY set

	resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model:       client.ModelGPTOSS120B,
		Messages:    []client.ChatMessage{client.SystemMessage("Be brief."), client.UserMessage("Hello!")},
		Temperature: client.Float(0), // sent as "temperature": 0
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(resp.Choices[0].Message.Content)
	if u := resp.Usage; u != nil { // nil when the server sends no usage
		fmt.Println(u.TotalTokens, "tokens")
	}
	// Output:
	// Hello! How can I assist you today?
	// 22 tokens
}

func ExampleChatCompletionService_NewStreaming() {
	srv := fakeAPI()
	defer srv.Close()
	c := newExampleClient(srv)

	stream, err := c.Chat.Completions.NewStreaming(context.Background(), client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Say hello")},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for chunk, err := range stream.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		for _, choice := range chunk.Choices { // a usage-only chunk has none
			fmt.Print(choice.Delta.Content)
		}
	}
	fmt.Println()
	// Output: Hello, world!
}

func ExampleAPIError() {
	srv := fakeAPI()
	defer srv.Close()
	c := newExampleClient(srv)

	_, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model:    "rate-limited",
		Messages: []client.ChatMessage{client.UserMessage("Hi")},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
		fmt.Println("rate limited:", errors.Is(err, client.ErrRateLimit))
		fmt.Println("tokens reset in", apiErr.RateLimit.TokensMinute.Reset)
	}
	// Output:
	// 429 token_quota_exceeded
	// rate limited: true
	// tokens reset in 11.5s
}

func ExampleUserMessageParts() {
	m := client.UserMessageParts(client.TextPart("What is in this image?"), client.ImageURLPart("https://example.com/cat.png"))
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
	// Output: {"content":[{"text":"What is in this image?","type":"text"},{"image_url":{"url":"https://example.com/cat.png"},"type":"image_url"}],"role":"user"}
}

func ExampleToolMessage() {
	// In a tool loop the call comes from resp.Choices[0].Message.ToolCalls,
	// or from a stream accumulator's JustFinishedToolCalls.
	call := client.ToolCall{ID: "call_1"}
	b, _ := json.Marshal(client.ToolMessage(call, "21 °C and sunny"))
	fmt.Println(string(b))
	// Output: {"content":"21 °C and sunny","role":"tool","tool_call_id":"call_1"}
}

func ExampleFunctionToolFor() {
	type getWeather struct {
		City string `json:"city" description:"City name"`
	}
	tool, err := client.FunctionToolFor[getWeather]("get_weather", "Current weather for a city")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	b, _ := json.Marshal(tool)
	fmt.Println(string(b))
	// Output: {"function":{"description":"Current weather for a city","name":"get_weather","parameters":{"additionalProperties":false,"properties":{"city":{"description":"City name","type":"string"}},"required":["city"],"type":"object"},"strict":true},"type":"function"}
}

func ExampleResponseFormatFor() {
	type answer struct {
		Answer     string  `json:"answer"`
		Confidence float64 `json:"confidence"`
	}
	format, err := client.ResponseFormatFor[answer]()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	b, _ := json.Marshal(format)
	fmt.Println(string(b))

	// Later, decode the reply into the same type.
	got, err := client.DecodeContent[answer](client.ChatCompletionMessage{Content: `{"answer":"42","confidence":0.9}`})
	fmt.Println(got.Answer, got.Confidence, err)
	// Output:
	// {"json_schema":{"name":"answer","schema":{"additionalProperties":false,"properties":{"answer":{"type":"string"},"confidence":{"type":"number"}},"required":["answer","confidence"],"type":"object"},"strict":true},"type":"json_schema"}
	// 42 0.9 <nil>
}

func ExampleStop() {
	b, _ := json.Marshal(client.ChatCompletionNewParams{
		Model:      "m",
		Messages:   []client.ChatMessage{client.UserMessage("Count")},
		Stop:       client.Stop("10", "ten"),
		ToolChoice: client.ToolChoiceNone(),
		Seed:       client.Int64(0),
	})
	fmt.Println(string(b))
	// Output: {"messages":[{"content":"Count","role":"user"}],"model":"m","seed":0,"stop":["10","ten"],"tool_choice":"none"}
}

// Print a conversation: every message's role and text, whatever form its
// content takes.
func ExampleMessageText() {
	history := []client.ChatMessage{
		client.SystemMessage("Be brief."),
		client.UserMessageParts(client.TextPart("What is in "), client.ImageURLPart("https://example.com/cat.png"), client.TextPart("this picture?")),
		client.AssistantMessage("A cat."),
		client.AssistantMessageFrom(client.ChatCompletionMessage{ToolCalls: []client.ToolCall{{ID: "call_1", Function: client.ToolCallFunction{Name: "lookup"}}}}),
		client.ToolMessage(client.ToolCall{ID: "call_1"}, `{"breed":"tabby"}`),
	}
	for _, m := range history {
		fmt.Printf("%s: %q\n", client.MessageRole(m), client.MessageText(m))
	}
	// Output:
	// system: "Be brief."
	// user: "What is in this picture?"
	// assistant: "A cat."
	// assistant: ""
	// tool: "{\"breed\":\"tabby\"}"
}
