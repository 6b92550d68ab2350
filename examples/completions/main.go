// Text completions: continue a raw prompt.
package main

import (
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

	model := os.Getenv("CEREBRAS_COMPLETIONS_MODEL")
	if model == "" {
		model = client.ModelGPTOSS120B
	}
	resp, err := c.Completions.New(context.Background(), client.CompletionNewParams{
		Model:     model,
		Prompt:    client.Prompt("Once upon a time"),
		MaxTokens: client.Int(12),
	})
	if err != nil {
		log.Fatal(err)
	}
	choice := resp.Choices[0]
	if choice.Text != "" {
		fmt.Printf("completion: Once upon a time%s\n", choice.Text)
	}
	if choice.FinishReason != "" {
		fmt.Println("finish reason:", choice.FinishReason)
	}
}
