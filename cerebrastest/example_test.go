package cerebrastest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// exampleParams is a small chat request for the examples.
var exampleParams = client.ChatCompletionNewParams{
	Model:    client.ModelGPTOSS120B,
	Messages: []client.ChatMessage{client.UserMessage("Hello!")},
}

func ExampleNewServer() {
	// In a test, NewServer(t) starts the fake and stops it when the test ends:
	//
	//	srv := cerebrastest.NewServer(t)
	//
	// Outside a test, as in this example, Start and Close do the same.
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
	resp, err := c.Chat.Completions.New(context.Background(), exampleParams)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	if content := resp.Choices[0].Message.Content; content != "" {
		fmt.Println(content)
	}
	// Output: You said: Hello!
}

func ExampleServer_Enqueue() {
	srv, err := cerebrastest.Start()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("test"), client.WithoutEnvironment(), client.WithMaxRetries(1))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	// Two rate limits in a row: the client retries once, then gives up.
	srv.Enqueue(cerebrastest.RateLimited(10*time.Millisecond), cerebrastest.RateLimited(10*time.Millisecond))
	_, err = c.Chat.Completions.New(ctx, exampleParams)
	fmt.Println("rate limited:", errors.Is(err, client.ErrRateLimit))

	// A scripted error for one path only: the models call passes it by.
	srv.Enqueue(cerebrastest.Response{Path: "/v1/chat/completions", Fault: cerebrastest.ResetBeforeHeaders})
	_, err = c.Models.List(ctx)
	fmt.Println("models:", err)
	_, err = c.Chat.Completions.New(ctx, exampleParams, client.WithMaxRetries(0))
	var connErr *client.ConnectionError
	fmt.Println("chat connection error:", errors.As(err, &connErr))
	// Output:
	// rate limited: true
	// models: <nil>
	// chat connection error: true
}

func ExampleServer_Requests() {
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
	if _, err := c.Chat.Completions.New(context.Background(), exampleParams, client.WithHeader("X-Trace", "t-1")); err != nil {
		fmt.Println("error:", err)
		return
	}

	// The background TCP warm-up of client.New is not listed: only API calls.
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path, r.Header.Get("X-Trace"), r.Header.Get("Authorization"))
	}
	// Output: POST /v1/chat/completions t-1 Bearer test
}

// A streamed chat answer, chunk by chunk, numbered as Response.After counts
// them: a fault with After 3 comes after the third.
func ExampleResponse_chatStream() {
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
	stream, err := c.Chat.Completions.NewStreaming(context.Background(), exampleParams)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	n := 0
	for chunk, err := range stream.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		n++
		for _, choice := range chunk.Choices {
			switch d := choice.Delta; {
			case d.Role != "":
				fmt.Printf("%2d role %s\n", n, d.Role)
			case d.Reasoning != "":
				fmt.Printf("%2d reasoning %q\n", n, d.Reasoning)
			case d.Content != "":
				fmt.Printf("%2d content %q\n", n, d.Content)
			case choice.FinishReason != "":
				fmt.Printf("%2d finish %s\n", n, choice.FinishReason)
			}
		}
		if chunk.Usage != nil {
			fmt.Printf("%2d usage, %d choices\n", n, len(chunk.Choices))
		}
	}
	// Output:
	//  1 role assistant
	//  2 reasoning "The"
	//  3 reasoning " user"
	//  4 reasoning " wrote"
	//  5 reasoning " 1"
	//  6 reasoning " words."
	//  7 reasoning " I"
	//  8 reasoning " will"
	//  9 reasoning " repeat"
	// 10 reasoning " the"
	// 11 reasoning " message"
	// 12 reasoning " back."
	// 13 content "You"
	// 14 content " said:"
	// 15 content " Hello!"
	// 16 finish stop
	// 17 usage, 0 choices
}
