package cerebrastest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

// TestChatRetriesRateLimit is the README's cerebrastest example, as a user
// would write it: TestREADMEExampleIsThisTest keeps the two identical.
func TestChatRetriesRateLimit(t *testing.T) {
	srv := cerebrastest.NewServer(t) // a fake API on 127.0.0.1, stopped when the test ends
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	params := client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Hello!")},
	}

	// The next request is rate limited: the SDK waits 10 ms and retries.
	srv.Enqueue(cerebrastest.RateLimited(10 * time.Millisecond))
	if _, err := c.Chat.Completions.New(ctx, params); err != nil {
		t.Fatalf("the SDK should retry the 429: %v", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want the 429 and its retry", n)
	}

	// The next stream is cut after three chunks, without [DONE]. The fake
	// streams the role, then the reasoning and the answer a word a chunk:
	// with the reasoning hidden, the cut comes after "You said:".
	params.ReasoningFormat = client.Ptr(client.ReasoningFormatHidden)
	srv.Enqueue(cerebrastest.Response{Fault: cerebrastest.TruncateStream, After: 3})
	stream, err := c.Chat.Completions.NewStreaming(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	chunks, text := 0, ""
	for stream.Next() {
		chunks++
		for _, choice := range stream.Current().Choices {
			text += choice.Delta.Content
		}
	}
	if err := stream.Err(); chunks != 3 || text != "You said:" || !errors.Is(err, streaming.ErrTruncated) {
		t.Errorf("%d chunks (%q), then %v; want 3 (\"You said:\"), then ErrTruncated", chunks, text, err)
	}
}

// TestREADMEExampleIsReliable runs the README's example 100 times: a test a
// user copies from it must pass every time, whatever the background TCP
// warm-up does.
func TestREADMEExampleIsReliable(t *testing.T) {
	for i := range 100 {
		t.Run(fmt.Sprint(i), TestChatRetriesRateLimit)
	}
}

// TestREADMEExampleIsThisTest keeps the README's cerebrastest example and
// TestChatRetriesRateLimit the same code.
func TestREADMEExampleIsThisTest(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Testing your code")
	_, block, ok2 := strings.Cut(section, "```go\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```go block under \"## Testing your code\"")
	}
	if !strings.Contains(string(src), block) {
		t.Errorf("the README's cerebrastest example differs from TestChatRetriesRateLimit in readme_test.go; copy the function into the README:\n%s", block)
	}
}
