// Chat: one request, one complete reply.
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
	// New reads CEREBRAS_API_KEY (and CEREBRAS_BASE_URL, if set).
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model: cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages: []client.ChatMessage{
			client.SystemMessage("You are a helpful assistant. Answer in one sentence."),
			client.UserMessage("What is a wafer-scale engine?"),
		},
		Temperature:         client.Float(0), // zero values are sent, not dropped
		MaxCompletionTokens: client.Int(200),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("assistant:", resp.Choices[0].Message.Content)
	if u := resp.Usage; u != nil { // nil when the server sends no usage
		fmt.Printf("usage: %d prompt + %d completion tokens\n", u.PromptTokens, u.CompletionTokens)
	}
}
