package toolrunner_test

import (
	"context"
	"fmt"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

type placeArgs struct {
	City string `json:"city" description:"City name, such as Paris"`
}

type addArgs struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// exampleTools are a weather tool with a structured result (sent as JSON)
// and a calculator with a string result (sent as it is).
func exampleTools() ([]toolrunner.Tool, error) {
	type weather struct {
		City  string  `json:"city"`
		TempC float64 `json:"temp_c"`
	}
	weatherTool, err := toolrunner.NewTool("get_weather", "Current weather for a city",
		func(ctx context.Context, a placeArgs) (weather, error) { return weather{City: a.City, TempC: 21}, nil })
	if err != nil {
		return nil, err
	}
	addTool, err := toolrunner.NewTool("add", "Adds two numbers",
		func(ctx context.Context, a addArgs) (string, error) { return fmt.Sprint(a.A + a.B), nil })
	if err != nil {
		return nil, err
	}
	return []toolrunner.Tool{weatherTool, addTool}, nil
}

// exampleSetup starts a local fake of the API and returns a client for it
// and the example tools; stop stops both. In real code: client.New(), no
// fake.
func exampleSetup() (c *client.Client, tools []toolrunner.Tool, stop func(), err error) {
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

// ExampleRunner_Run runs the tool loop in one call,
// against a local fake of the API whose model calls both tools in one turn.
// The transcript lists every call, and Messages continues the conversation.
func ExampleRunner_Run() {
	c, tools, stop, err := exampleSetup()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer stop()

	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: tools}
	run, err := r.Run(context.Background(), client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Use get_weather for Paris, and add 1.5 and 1.5.")},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, call := range run.Calls {
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

// ExampleRunner_Stream streams the same run: text
// as it arrives, each tool call when its arguments are complete, and each
// result once its tool has returned.
func ExampleRunner_Stream() {
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
	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: tools}
	for ev, err := range r.Stream(context.Background(), params) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		switch ev.Kind {
		case toolrunner.ContentDelta:
			fmt.Print(ev.Text)
		case toolrunner.CallFinished:
			fmt.Printf("calling %s(%s)\n", ev.Call.Name, ev.Call.Arguments)
		case toolrunner.CallResult:
			fmt.Printf("%s -> %s\n", ev.Call.Name, ev.Call.Result)
		case toolrunner.Done:
			fmt.Printf("\n(%d turns)\n", ev.Transcript.Turns)
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
