package batchfile_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Run a batch input file on this machine through the chat API, stop it
// after the first result, and resume it: the second run skips what the first
// one wrote. The results read like a batch's output file.
func ExampleRunLocal() {
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

	// The same input as the Batch API's.
	var input bytes.Buffer
	w := batchfile.NewWriter(&input)
	for _, q := range []string{"What is 2+2?", "Name a prime.", "Say hi."} {
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

	dir, err := os.MkdirTemp("", "bulk")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "results.jsonl")
	run := func(ctx context.Context, onProgress func(batchfile.Progress)) (batchfile.Progress, error) {
		out, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return batchfile.Progress{}, err
		}
		defer out.Close()
		return batchfile.RunLocal(ctx, c.Chat.Completions, bytes.NewReader(input.Bytes()), out,
			batchfile.RunParams{Concurrency: 1, OnProgress: onProgress})
	}

	// Interrupted after one result, as by a Ctrl-C.
	ctx, cancel := context.WithCancel(context.Background())
	p, err := run(ctx, func(p batchfile.Progress) {
		if p.Completed == 1 {
			cancel()
		}
	})
	cancel()
	fmt.Printf("first run: %v after %d done\n", err, p.Completed)

	p, err = run(context.Background(), nil)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("resumed: skipped %d, %d done of %d\n", p.Skipped, p.Completed, p.Total)

	out, err := os.Open(path)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer out.Close()
	for res, err := range batchfile.Results(out) {
		switch {
		case err != nil:
			fmt.Println("unreadable line:", err)
		case res.Completion != nil:
			fmt.Printf("%s %s: %s\n", res.CustomID, res.Status, res.Completion.Choices[0].Message.Content)
		default:
			fmt.Printf("%s %s: %v\n", res.CustomID, res.Status, res.Error)
		}
	}
	// Output:
	// first run: context canceled after 1 done
	// resumed: skipped 1, 2 done of 3
	// q1 succeeded: You said: What is 2+2?
	// q2 succeeded: You said: Name a prime.
	// q3 succeeded: You said: Say hi.
}
