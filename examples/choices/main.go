// Multiple choices: n=3 alternative replies to one request.
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

	resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model:       cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages:    []client.ChatMessage{client.UserMessage("Write an opening line for a story.")},
		N:           client.Int(3),
		Temperature: client.Float(0.9),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, choice := range resp.Choices {
		fmt.Printf("option %d: %s\n", choice.Index+1, choice.Message.Content)
	}
}
