package client_test

import (
	"context"
	"fmt"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Example_toolLoop runs the whole tool loop against a local fake of the API:
// the model calls a tool, the program runs it and sends the result back with
// AssistantMessageFrom and ToolMessage, and the model answers with it.
func Example_toolLoop() {
	srv, err := cerebrastest.Start() // in real code: no fake, no WithBaseURL
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	type weatherArgs struct {
		City string `json:"city" description:"City name, such as Paris"`
	}
	tool, err := client.FunctionToolFor[weatherArgs]("get_weather", "Current weather for a city")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	params := client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("What's the weather in Paris?")},
		Tools:    []client.Tool{tool},
	}
	for range 5 { // a bound on the turns, in case the model keeps calling tools
		resp, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			if msg.Content != "" {
				fmt.Println("assistant:", msg.Content)
			}
			return
		}
		// Keep the assistant's turn in the conversation, then answer each call.
		params.Messages = append(params.Messages, client.AssistantMessageFrom(msg))
		for _, call := range msg.ToolCalls {
			args, err := client.DecodeArguments[weatherArgs](call)
			if err != nil { // bad arguments are the model's mistake: tell it
				params.Messages = append(params.Messages, client.ToolMessage(call, "error: "+err.Error()))
				continue
			}
			fmt.Println("tool call: get_weather for", args.City)
			params.Messages = append(params.Messages, client.ToolMessage(call, "21 °C and sunny in "+args.City))
		}
	}
	// Output:
	// tool call: get_weather for Paris
	// assistant: According to the tool: 21 °C and sunny in Paris
}

// Example_structuredOutput asks for a reply in the shape of a Go type with
// ResponseFormatFor and decodes it with DecodeContent, against a local fake
// of the API that fills any strict JSON schema deterministically (with words
// of the prompt, so its answer is valid, not wise).
func Example_structuredOutput() {
	srv, err := cerebrastest.Start()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()

	type capital struct {
		Country string `json:"country"`
		City    string `json:"city"`
	}
	format, err := client.ResponseFormatFor[capital]()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model:          client.ModelGPTOSS120B,
		Messages:       []client.ChatMessage{client.UserMessage("The capital of France, as JSON.")},
		ResponseFormat: format,
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	got, err := client.DecodeContent[capital](resp.Choices[0].Message)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%+v\n", got) // the fake fills strings with words of the prompt
	// Output: {Country:JSON City:France}
}
