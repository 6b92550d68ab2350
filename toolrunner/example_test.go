package client_test

import (
	"context"
	"fmt"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

type cityArgs struct {
	City string `json:"city" description:"City name, such as Paris"`
}

type addArgs struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// exampleTools are a weather tool with a structured result (sent as JSON)
// and a calculator with a string result (sent as it is).
func exampleTools() ([]client.RunnableTool, error) {
	type weather struct {
		City  string  `json:"city"`
		TempC float64 `json:"temp_c"`
	}
	weatherTool, err := client.NewTool("get_weather", "Current weather for a city",
		func(ctx context.Context, a cityArgs) (weather, error) { return weather{City: a.City, TempC: 21}, nil })
	if err != nil {
		return nil, err
	}
	addTool, err := client.NewTool("add", "Adds two numbers",
		func(ctx context.Context, a addArgs) (string, error) { return fmt.Sprint(a.A + a.B), nil })
	if err != nil {
		return nil, err
	}
	return []client.RunnableTool{weatherTool, addTool}, nil
}

// exampleSetup starts a local fake of the API and returns a client for it
// and the example tools; stop stops both. In real code: client.New(), no
// fake.
func exampleSetup() (c *client.Client, tools []client.RunnableTool, stop func(), err error) {
	srv, err := cerebrastest.Start()
	if err != nil {
		return nil, nil, nil, err
	}
	c, err = client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment())
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	stop = func() { _ = c.Close(); srv.Close() }
	if tools, err = exampleTools(); err != nil {
		stop()
		return nil, nil, nil, err
	}
	return c, tools, stop, nil
}

// ExampleChatCompletionService_RunTools runs the tool loop in one call,
// against a local fake of the API whose model calls both tools in one turn.
// The transcript lists every call, and Messages continues the conversation.
func ExampleChatCompletionService_RunTools() {
	c, tools, stop, err := exampleSetup()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer stop()

	run, err := c.Chat.Completions.RunTools(context.Background(), client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Use get_weather for Paris, and add 1.5 and 1.5.")},
	}, tools)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, call := range run.ToolCalls {
		fmt.Printf("turn %d: %s(%s) -> %s\n", call.Turn, call.Name, call.Arguments, call.Result)
	}
	fmt.Println("assistant:", run.Content())
	fmt.Println(run.Turns, "turns,", len(run.Messages), "messages")
	// Output:
	// turn 1: get_weather({"city":"Paris"}) -> {"city":"Paris","temp_c":21}
	// turn 1: add({"a":1.5,"b":1.5}) -> 3
	// assistant: According to the tools: {"city":"Paris","temp_c":21}; 3
	// 2 turns, 5 messages
}

// ExampleChatCompletionService_RunToolsStreaming streams the same run: text
// as it arrives, each tool call when its arguments are complete, and each
// result once its tool has returned.
func ExampleChatCompletionService_RunToolsStreaming() {
	c, tools, stop, err := exampleSetup()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer stop()

	params := client.ChatCompletionNewParams{
		Model:           client.ModelGPTOSS120B,
		Messages:        []client.ChatMessage{client.UserMessage("Use get_weather for Paris, and add 1.5 and 1.5.")},
		ReasoningEffort: client.Ptr(client.ReasoningEffortNone), // no reasoning deltas, for a short output
	}
	for ev, err := range c.Chat.Completions.RunToolsStreaming(context.Background(), params, tools) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		switch ev.Kind {
		case client.ToolRunContentDelta:
			fmt.Print(ev.Text)
		case client.ToolRunCallFinished:
			fmt.Printf("calling %s(%s)\n", ev.Tool.Name, ev.Tool.Arguments)
		case client.ToolRunCallResult:
			fmt.Printf("%s -> %s\n", ev.Tool.Name, ev.Tool.Result)
		case client.ToolRunDone:
			fmt.Printf("\n(%d turns)\n", ev.Run.Turns)
		}
	}
	// Output:
	// calling get_weather({"city":"Paris"})
	// calling add({"a":1.5,"b":1.5})
	// get_weather -> {"city":"Paris","temp_c":21}
	// add -> 3
	// According to the tools: {"city":"Paris","temp_c":21}; 3
	// (2 turns)
}
