// Timeouts and cancellation: a per-attempt timeout, a deadline for the
// whole call, an idle timeout for streams, and cancelling a stream midway.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/cerebras-go/cerebras/client"
)

func main() {
	// Each attempt may take 30 s; a stream fails if it stalls for 10 s.
	c, err := client.New(client.WithRequestTimeout(30*time.Second), client.WithStreamIdleTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	model := cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B)

	// The context's deadline bounds every attempt and retry together.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.Chat.Completions.New(ctx, client.ChatCompletionNewParams{
		Model:    model,
		Messages: []client.ChatMessage{client.UserMessage("Say hello.")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("within the deadline:", resp.Choices[0].Message.Content)

	// Cancelling the context stops a stream promptly and frees its connection.
	sctx, stop := context.WithCancel(context.Background())
	stream, err := c.Chat.Completions.NewStreaming(sctx, client.ChatCompletionNewParams{
		Model:    model,
		Messages: []client.ChatMessage{client.UserMessage("Count slowly from one to one hundred.")},
	})
	if err != nil {
		log.Fatal(err)
	}
	chunks := 0
	for _, err := range stream.All() {
		if errors.Is(err, context.Canceled) {
			fmt.Printf("stream cancelled by the caller after %d chunks\n", chunks)
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if chunks++; chunks == 3 {
			stop()
		}
	}

	// An already-expired deadline is reported as such, without retrying.
	expired, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	time.Sleep(time.Millisecond)
	_, err = c.Chat.Completions.New(expired, client.ChatCompletionNewParams{Model: model, Messages: []client.ChatMessage{client.UserMessage("hi")}})
	fmt.Println("expired deadline:", errors.Is(err, context.DeadlineExceeded))
}
