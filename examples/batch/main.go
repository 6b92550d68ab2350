// Batch: write ten requests into a JSONL file, upload it, run it as a
// batch, wait for it with progress, and read its results. The Batch and
// Files APIs are in Private Preview: without access the first call fails
// with the API's error.
package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
)

var questions = []string{
	"What is 2+2?", "Name a prime number.", "What colour is the sky?", "Say hi.", "Name a planet.",
	"What is the capital of France?", "Name a noble gas.", "How many legs has a spider?",
	"Name a sorting algorithm.", "What is H2O?",
}

func main() {
	// New reads CEREBRAS_API_KEY (and CEREBRAS_BASE_URL, if set).
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// A real batch can take hours: Ctrl-C stops waiting (the batch runs on).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// The writer checks the documented limits (unique custom_ids, one
	// model, line and file sizes) before anything is uploaded.
	var input bytes.Buffer
	w := batchfile.NewWriter(&input)
	model := cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B)
	for i, q := range questions {
		err := w.Add(fmt.Sprintf("q%02d", i+1), client.ChatCompletionNewParams{
			Model:               model,
			Messages:            []client.ChatMessage{client.UserMessage(q)},
			MaxCompletionTokens: client.Int(100),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := c.Files.New(ctx, client.FileNewParams{File: &input, Filename: "questions.jsonl", Purpose: client.FilePurposeBatch})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("uploaded %s: %d bytes\n", f.ID, f.Bytes)
	b, err := c.Batches.New(ctx, client.BatchNewParams{
		InputFileID:      f.ID,
		Endpoint:         client.BatchEndpointChatCompletions,
		CompletionWindow: client.BatchCompletionWindowHours24,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %s: %s\n", b.ID, b.Status)

	// CEREBRAS_BATCH_POLL, if set, is the first delay between two polls
	// (a Go duration, such as 10ms against a local fake); unset, Wait polls
	// after 1 s, doubling up to 30 s.
	var poll time.Duration
	if v := os.Getenv("CEREBRAS_BATCH_POLL"); v != "" {
		if poll, err = time.ParseDuration(v); err != nil {
			log.Fatalf("CEREBRAS_BATCH_POLL: %v", err)
		}
	}
	b, err = c.Batches.Wait(ctx, b.ID, client.BatchWaitParams{Interval: poll, OnProgress: func(b *client.Batch) {
		n := b.RequestCounts
		fmt.Printf("batch %s: %d of %d done, %d failed\n", b.Status, n.Completed, n.Total, n.Failed)
	}})
	if err != nil {
		log.Fatal(err)
	}
	if b.Status != client.BatchStatusCompleted {
		fmt.Printf("the batch ended %s (errors: %v)\n", b.Status, b.Errors)
	}
	for _, id := range []string{b.OutputFileID, b.ErrorFileID} {
		if id != "" { // "" when no request ended up in that file
			printResults(ctx, c, id)
		}
	}
}

// printResults downloads a result file and prints each request's answer
// or error, by custom_id.
func printResults(ctx context.Context, c *client.Client, fileID string) {
	body, err := c.Files.Content(ctx, fileID)
	if err != nil {
		log.Fatal(err)
	}
	defer body.Close()
	for res, err := range batchfile.Results(body) {
		if err != nil { // a malformed line: reported with its number, and the reading goes on
			fmt.Println("error:", err)
			continue
		}
		switch {
		case res.Completion != nil && len(res.Completion.Choices) > 0:
			fmt.Printf("%s: %s\n", res.CustomID, res.Completion.Choices[0].Message.Content)
		case res.Error != nil:
			fmt.Printf("%s %s: %s (%s)\n", res.CustomID, res.Status, res.Error.Message, res.Error.Code)
		default:
			fmt.Printf("%s %s\n", res.CustomID, res.Status)
		}
	}
}
