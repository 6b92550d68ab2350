// Structured outputs: ask for JSON that follows a Go type's schema and
// decode the reply into it.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cerebras-go/cerebras/client"
)

type movie struct {
	Title    string   `json:"title"`
	Year     int      `json:"year"`
	Director string   `json:"director"`
	Genres   []string `json:"genres" description:"one or more genres"`
}

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	format, err := client.ResponseFormatFor[movie]()
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model:          cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages:       []client.ChatMessage{client.UserMessage("Describe a classic science fiction movie.")},
		ResponseFormat: format,
	})
	if err != nil {
		log.Fatal(err)
	}
	m, err := client.DecodeContent[movie](resp.Choices[0].Message)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("decoded into a Go struct: %+v\n", m)
}
