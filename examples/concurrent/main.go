// Concurrent requests: one client, safe for concurrent use, shared by
// several goroutines; its connections are reused.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/cerebras-go/cerebras/client"
)

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	questions := []string{"What is 2+2?", "Name a prime number.", "What color is the sky?", "Say hi."}
	answers := make([]string, len(questions))
	var wg sync.WaitGroup
	errs := make(chan error, len(questions))
	for i, q := range questions {
		wg.Go(func() {
			resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
				Model:    cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
				Messages: []client.ChatMessage{client.UserMessage(q)},
			})
			if err != nil {
				errs <- err
				return
			}
			if content := resp.Choices[0].Message.Content; content != "" {
				answers[i] = content
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		log.Fatal(err)
	}
	for i, q := range questions {
		fmt.Printf("%-24s -> %s\n", q, answers[i])
	}
}
