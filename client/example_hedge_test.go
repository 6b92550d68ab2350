package client_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Hedge the first token: the first request's answer would take an hour, so
// after 10 ms the client sends a duplicate, reads the one that answers, and
// cancels the other. The hedge is attempt 1 of the call, as the server sees
// in X-Stainless-Retry-Count.
func ExampleWithHedging() {
	srv, err := cerebrastest.Start(cerebrastest.WithFirstEventDelay(func(n int) time.Duration {
		if n == 0 {
			return time.Hour // the fake gives up the wait when the client cancels
		}
		return 0
	}))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithAPIKey("csk-example"), client.WithBaseURL(srv.URL), client.WithTCPWarming(false),
		client.WithHedging(client.HedgePolicy{Delay: 10 * time.Millisecond}))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()
	params := client.ChatCompletionNewParams{
		Model:               client.ModelGemma431B,
		Messages:            []client.ChatMessage{client.UserMessage("Hello!")},
		MaxCompletionTokens: client.Int(100), // what a hedge costs of the quota, with the prompt
	}
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), params)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for chunk, err := range stream.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		for _, ch := range chunk.Choices {
			fmt.Print(ch.Delta.Content)
		}
	}
	fmt.Println()
	var counts []string
	for _, r := range srv.Requests() {
		counts = append(counts, r.Header.Get("X-Stainless-Retry-Count"))
	}
	slices.Sort(counts) // the two may reach the server in either order
	fmt.Println("X-Stainless-Retry-Count of the requests:", counts)
	// Output:
	// You said: Hello!
	// X-Stainless-Retry-Count of the requests: [0 1]
}
