package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// timing is an Observer that prints each operation's method, its attempts
// and its outcome: a logging or metrics observer is this size.
type timing struct{}

func (timing) Start(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	return ctx, &timedOp{method: op.Method, start: time.Now()}
}

type timedOp struct {
	method string
	start  time.Time
	events int
}

func (o *timedOp) Attempt(a client.Attempt) {
	if a.Response != nil {
		fmt.Printf("%s: attempt %d: %s\n", o.method, a.Number, a.Response.Status)
	}
}

func (o *timedOp) Event(any) { o.events++ }

func (o *timedOp) End(out client.Outcome) {
	_ = time.Since(o.start) // a real observer records it
	fmt.Printf("%s: ended after %d events, error: %v\n", o.method, o.events, out.Err)
}

func ExampleWithObserver() {
	srv, err := cerebrastest.Start()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithAPIKey("csk-example"), client.WithBaseURL(srv.URL), client.WithObserver(timing{}))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()

	ctx := context.Background()
	params := client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Hello!")},
	}
	if _, err := c.Chat.Completions.New(ctx, params); err != nil {
		fmt.Println("error:", err)
		return
	}
	stream, err := c.Chat.Completions.NewStreaming(ctx, params)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, err := range stream.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
	}
	// Output:
	// Chat.Completions.New: attempt 0: 200 OK
	// Chat.Completions.New: ended after 0 events, error: <nil>
	// Chat.Completions.NewStreaming: attempt 0: 200 OK
	// Chat.Completions.NewStreaming: ended after 17 events, error: <nil>
}
