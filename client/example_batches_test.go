package client_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Run a batch: write and upload its input, create it, wait for it, read
// its results. Batch is in Private Preview: without access the API answers
// with an error (an *APIError).
func ExampleBatchService_Wait() {
	srv, err := cerebrastest.Start() // a local fake of the API, so the example runs offline
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithAPIKey("csk-example"), client.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	var input bytes.Buffer
	w := batchfile.NewWriter(&input)
	for _, q := range []string{"What is 2+2?", "Name a prime."} {
		if err := w.Add(fmt.Sprintf("q%d", w.Lines()+1), client.ChatCompletionNewParams{
			Model:    client.ModelGPTOSS120B,
			Messages: []client.ChatMessage{client.UserMessage(q)},
		}); err != nil {
			fmt.Println("error:", err)
			return
		}
	}
	if err := w.Close(); err != nil {
		fmt.Println("error:", err)
		return
	}
	f, err := c.Files.New(ctx, client.FileNewParams{File: &input, Filename: "requests.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	b, err := c.Batches.New(ctx, client.BatchNewParams{
		InputFileID:      f.ID,
		Endpoint:         client.BatchEndpointChatCompletions,
		CompletionWindow: client.BatchCompletionWindowHours24,
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(b.Status)

	b, err = c.Batches.Wait(ctx, b.ID, client.BatchWaitParams{
		Interval: time.Millisecond, // the fake is quick; against the API the default (1 s, up to 30 s) is kinder
		OnProgress: func(b *client.Batch) {
			fmt.Printf("%s: %d of %d done\n", b.Status, b.RequestCounts.Completed, b.RequestCounts.Total)
		},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	out, err := c.Files.Content(ctx, b.OutputFileID)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer out.Close()
	for res, err := range batchfile.Results(out) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%s %s: %s\n", res.CustomID, res.Status, res.Completion.Choices[0].Message.Content)
	}
	// Output:
	// validating
	// in_progress: 0 of 2 done
	// finalizing: 2 of 2 done
	// completed: 2 of 2 done
	// q1 succeeded: You said: What is 2+2?
	// q2 succeeded: You said: Name a prime.
}
