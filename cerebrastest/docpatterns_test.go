package cerebrastest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

// TestDocPatternsOnRealChunkShapes runs the reading patterns of the README,
// the package docs and the examples against every chunk and response shape
// the fake sends: the role chunk, content chunks, the empty-delta finish
// chunk, the final usage chunk without choices, tool-call fragments, and a
// tool-call response without content. None may panic, and each reads what
// was sent.
func TestDocPatternsOnRealChunkShapes(t *testing.T) {
	srv := cerebrastest.NewServer(t)
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	params := client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Say hello")},
	}

	// Streaming: the doc's loop over chunk.Choices, and the usage check.
	stream, err := c.Chat.Completions.NewStreaming(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var shapes struct{ role, content, emptyFinish, usageOnly int }
	total := 0
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		for _, choice := range chunk.Choices {
			text.WriteString(choice.Delta.Content) // the README/doc pattern
			switch d := choice.Delta; {
			case d.Role != "":
				shapes.role++
			case d.Content != "":
				shapes.content++
			case choice.FinishReason != "" && d.Content == "" && len(d.ToolCalls) == 0:
				shapes.emptyFinish++
			}
		}
		if u := chunk.Usage; u != nil { // examples/streaming
			total = u.TotalTokens
			if len(chunk.Choices) == 0 {
				shapes.usageOnly++
			}
		}
	}
	if shapes.role != 1 || shapes.content == 0 || shapes.emptyFinish != 1 || shapes.usageOnly != 1 {
		t.Errorf("chunk shapes %+v: want one role chunk, content chunks, one empty-delta finish, one usage-only chunk", shapes)
	}
	resp, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := text.String(), resp.Choices[0].Message.Content; got != want || got == "" {
		t.Errorf("streamed %q, the same request answered %q", got, want)
	}
	if total == 0 {
		t.Error("no usage on the final chunk")
	}

	// A tool call, non-streaming: content is "", the call's fields are plain strings.
	type weatherArgs struct {
		City string `json:"city"`
	}
	tool, err := client.FunctionToolFor[weatherArgs]("get_weather", "The weather in a city.")
	if err != nil {
		t.Fatal(err)
	}
	toolParams := params
	toolParams.Messages = []client.ChatMessage{client.UserMessage("Weather in Paris?")}
	toolParams.Tools = []client.Tool{tool}
	resp, err = c.Chat.Completions.New(ctx, toolParams)
	if err != nil {
		t.Fatal(err)
	}
	msg := resp.Choices[0].Message
	if msg.Content != "" || len(msg.ToolCalls) != 1 {
		t.Fatalf("tool-call response: content %q, %d calls", msg.Content, len(msg.ToolCalls))
	}
	call := msg.ToolCalls[0]
	args, err := client.DecodeArguments[weatherArgs](call)
	if err != nil || call.ID == "" || call.Function.Name != "get_weather" {
		t.Fatalf("call %+v, args %+v, %v", call, args, err)
	}
	history := append(toolParams.Messages, client.AssistantMessageFrom(msg), client.ToolMessage(call, "sunny"))

	// The same call, streamed through the accumulator.
	stream, err = c.Chat.Completions.NewStreaming(ctx, toolParams)
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
	if len(finished) != 1 || finished[0].Name != "get_weather" || finished[0].ID == "" {
		t.Fatalf("finished calls %+v", finished)
	}
	streamed, err := client.DecodeArguments[weatherArgs](finished[0])
	if err != nil || streamed != args {
		t.Errorf("streamed arguments %+v (%v), non-streamed %+v", streamed, err, args)
	}

	// The answer after the tool result, and the history read back.
	toolParams.Messages = history
	resp, err = c.Chat.Completions.New(ctx, toolParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Choices[0].Message.Content, "sunny") {
		t.Errorf("answer %q does not use the tool result", resp.Choices[0].Message.Content)
	}
	var roles []string
	for _, m := range history {
		roles = append(roles, client.MessageRole(m)+":"+client.MessageText(m))
	}
	if got := strings.Join(roles, "|"); got != "user:Weather in Paris?|assistant:|tool:sunny" {
		t.Errorf("history = %s", got)
	}
}
