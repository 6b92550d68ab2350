// Streaming: print the reply as it arrives, ranging over stream.All().
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cerebras-go/cerebras/client"
)

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	stream, err := c.Chat.Completions.NewStreaming(context.Background(), client.ChatCompletionNewParams{
		Model:    cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages: []client.ChatMessage{client.UserMessage("Tell me a two-sentence story about a fast chip.")},
	})
	if err != nil { // an error status, after retries
		log.Fatal(err)
	}
	fmt.Print("assistant: ")
	for chunk, err := range stream.All() { // breaking out of the loop closes the stream
		if err != nil { // an in-stream error, a truncated stream, a timeout …
			log.Fatal(err)
		}
		for _, choice := range chunk.Choices {
			if choice.Delta.Content != "" {
				fmt.Print(choice.Delta.Content)
			}
		}
		if chunk.Usage != nil && chunk.Usage.TotalTokens != 0 { // the final chunk carries usage and time_info
			fmt.Printf("\n(%d tokens)", chunk.Usage.TotalTokens)
		}
	}
	fmt.Println()
}
