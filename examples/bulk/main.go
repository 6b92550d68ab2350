// Bulk: run a batch input file on this machine through the chat API (no
// Batch API access needed), interrupt it, resume it, and read the results
// as a batch's output file.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
)

func main() {
	// New reads CEREBRAS_API_KEY (and CEREBRAS_BASE_URL, if set).
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	dir, err := os.MkdirTemp("", "cerebras-bulk-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	inputPath, outputPath := filepath.Join(dir, "requests.jsonl"), filepath.Join(dir, "results.jsonl")
	if err := writeInput(inputPath); err != nil {
		log.Fatal(err)
	}

	// The first run stops after two results, as a Ctrl-C (which works too) would stop it.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	p, err := run(ctx, c, inputPath, outputPath, func(p batchfile.Progress) {
		if p.Completed+p.Failed >= 2 {
			cancel()
		}
	})
	cancel()
	if !errors.Is(err, context.Canceled) {
		log.Fatalf("first run: %v", err)
	}
	fmt.Printf("interrupted after %d results\n", p.Completed+p.Failed)

	// The second run skips what the first one wrote and does the rest.
	p, err = run(context.Background(), c, inputPath, outputPath, func(p batchfile.Progress) {
		total := "?" // until the whole input has been read
		if p.Total >= 0 {
			total = fmt.Sprint(p.Total)
		}
		fmt.Printf("  progress: %d done, %d failed, %d skipped of %s, %d tokens, %.0f req/s\n",
			p.Completed, p.Failed, p.Skipped, total, p.Usage.TotalTokens, p.Rate())
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resumed: skipped %d, %d done, %d failed of %d\n", p.Skipped, p.Completed, p.Failed, p.Total)

	// The results read exactly like a Batch API output file.
	out, err := os.Open(outputPath)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	for res, err := range batchfile.Results(out) {
		switch {
		case err != nil:
			fmt.Println("unreadable line:", err)
		case res.Completion != nil && len(res.Completion.Choices) > 0:
			fmt.Printf("%s %s: %s\n", res.CustomID, res.Status, res.Completion.Choices[0].Message.Content)
		default:
			fmt.Printf("%s %s: %v\n", res.CustomID, res.Status, res.Error)
		}
	}
}

// writeInput writes the requests as a batch input file, checked as the
// Batch API would check it.
func writeInput(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := batchfile.NewWriter(f)
	for i, q := range []string{"What is 2+2?", "Name a prime.", "Say hi.", "Spell cat.", "Count to three."} {
		if err := w.Add(fmt.Sprintf("q%d", i+1), client.ChatCompletionNewParams{
			Model:               cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
			Messages:            []client.ChatMessage{client.UserMessage(q)},
			MaxCompletionTokens: client.Int(100),
		}); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// run runs the input file into the results file, a new one or one an
// earlier run left: RunLocal resumes it.
func run(ctx context.Context, c *client.Client, inputPath, outputPath string, onProgress func(batchfile.Progress)) (batchfile.Progress, error) {
	in, err := os.Open(inputPath)
	if err != nil {
		return batchfile.Progress{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(outputPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return batchfile.Progress{}, err
	}
	defer out.Close()
	return batchfile.RunLocal(ctx, c.Chat.Completions, in, out, batchfile.RunParams{Concurrency: 2, OnProgress: onProgress})
}
