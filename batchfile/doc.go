// Package batchfile reads and writes the JSONL files of the Batch API, and
// runs such a file on this machine through the ordinary chat API.
//
// A Writer writes a batch input file, one chat completion request a line,
// checking every documented limit before anything is uploaded; Results
// reads a batch's output or error file one line at a time; RunLocal runs an
// input file through c.Chat.Completions with bounded concurrency, writing
// results in the batch output format as they finish, resumably:
//
//	w := batchfile.NewWriter(f)
//	err := w.Add("q-1", params)
//	…
//	p, err := batchfile.RunLocal(ctx, c.Chat.Completions, in, out, batchfile.RunParams{Concurrency: 16})
//	…
//	for res, err := range batchfile.Results(out) { … }
//
// The package is built only on package client's exported API; the Batch
// and Files endpoints themselves are client.BatchService and
// client.FileService.
package batchfile
