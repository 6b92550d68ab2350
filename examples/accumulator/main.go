// Accumulator: stream, then get the complete completion, reasoning included.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	stream, err := c.Chat.Completions.NewStreaming(context.Background(), client.ChatCompletionNewParams{
		Model:    cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages: []client.ChatMessage{client.UserMessage("Why is the sky blue? One sentence.")},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()

	var acc streaming.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		log.Fatal(err)
	}
	completion := acc.ChatCompletion()
	if len(completion.Choices) == 0 { // a stream may end before any choice
		log.Fatal("the stream carried no choice")
	}
	msg := completion.Choices[0].Message
	if msg.Reasoning != "" {
		fmt.Println("reasoning:", msg.Reasoning)
	}
	fmt.Println("answer:", msg.Content)
	fmt.Printf("%d chunks, finish reason %s\n", acc.Chunks(), completion.Choices[0].FinishReason)
}
