package client_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Upload a batch's input file, then list the files. Files is in Private
// Preview: without access the API answers with an error (an *APIError).
func ExampleFileService_New() {
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

	// JSONL: one request a line. A *strings.Reader (like an *os.File) can
	// be read again, so a failed upload is retried.
	requests := `{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-oss-120b","messages":[{"role":"user","content":"Hello!"}]}}` + "\n"
	f, err := c.Files.New(ctx, client.FileNewParams{
		File:     strings.NewReader(requests),
		Filename: "requests.jsonl",
		Purpose:  client.FilePurposeBatch,
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("uploaded", f.Filename, f.Bytes, "bytes")

	for f, err := range c.Files.List(ctx, client.FileListParams{Limit: client.Int(100)}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(f.ID, f.Filename, f.Purpose)
	}
	// Output:
	// uploaded requests.jsonl 144 bytes
	// file-000001 requests.jsonl batch
}
