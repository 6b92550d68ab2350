package cerebrastest_test

import (
	"context"
	"testing"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/gen"
)

// TestParallelToolCalls: a message that names several tools gets one call
// of each in one turn (parallel_tool_calls defaults to true), and the answer
// uses every result. The server validates its own answers against the spec.
func TestParallelToolCalls(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	type cityArgs struct {
		City string `json:"city"`
	}
	type sumArgs struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	weather, err := client.FunctionToolFor[cityArgs]("get_weather", "Weather for a city")
	if err != nil {
		t.Fatal(err)
	}
	add, err := client.FunctionToolFor[sumArgs]("add", "Adds two numbers")
	if err != nil {
		t.Fatal(err)
	}
	p := chat("Use get_weather for Paris and add two numbers.")
	p.Tools = []client.Tool{weather, add}
	resp, err := c.Chat.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	msg := resp.Choices[0].Message
	if resp.Choices[0].FinishReason != gen.FinishReasonToolCalls || len(msg.ToolCalls) != 2 {
		t.Fatalf("%+v", resp.Choices[0])
	}
	for i, want := range []string{"get_weather", "add"} {
		tc := msg.ToolCalls[i]
		if tc.Function.Name != want || tc.Index == nil || *tc.Index != i || tc.ID == "" {
			t.Errorf("call %d = %+v, want %s at index %d", i, tc, want, i)
		}
	}
	if msg.ToolCalls[0].ID == msg.ToolCalls[1].ID {
		t.Error("two calls share an id")
	}
	if got := msg.ToolCalls[0].Function.Arguments; got != `{"city":"Paris"}` {
		t.Errorf("get_weather arguments %s", got)
	}

	p.Messages = append(p.Messages, client.AssistantMessageFrom(msg),
		client.ToolMessage(msg.ToolCalls[0], "sunny"), client.ToolMessage(msg.ToolCalls[1], "3"))
	final, err := c.Chat.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := final.Choices[0].Message.Content, "According to the tools: sunny; 3"; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}

	// Streamed, both calls finish together.
	p.Messages = p.Messages[:1]
	stream, err := c.Chat.Completions.NewStreaming(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	_, finished := accumulate(t, stream)
	if len(finished) != 2 || finished[0].Name != "get_weather" || finished[1].Name != "add" || finished[1].Arguments != `{"a":1.5,"b":1.5}` {
		t.Errorf("finished calls %+v", finished)
	}

	// parallel_tool_calls false, or a named choice: one call.
	p.ParallelToolCalls = client.Bool(false)
	if resp, err = c.Chat.Completions.New(ctx, p); err != nil || len(resp.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("parallel_tool_calls false: %v, %+v", err, resp)
	}
	p.ParallelToolCalls = nil
	p.ToolChoice = client.ToolChoiceFunction("add")
	if resp, err = c.Chat.Completions.New(ctx, p); err != nil || len(resp.Choices[0].Message.ToolCalls) != 1 || resp.Choices[0].Message.ToolCalls[0].Function.Name != "add" {
		t.Fatalf("named tool choice: %v, %+v", err, resp)
	}
}
