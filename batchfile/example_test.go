package batchfile_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"github.com/cerebras-go/cerebras/batchfile"
	"github.com/cerebras-go/cerebras/client"
)

// A batch input file is written line by line, its limits checked before
// the upload; the results are read back one line at a time.
func ExampleNewWriter() {
	var input bytes.Buffer // in a program: a file, or the upload's body
	w := batchfile.NewWriter(&input)
	add := func(id, question string) error {
		return w.Add(id, client.ChatCompletionNewParams{
			Model:    client.ModelGPTOSS120B,
			Messages: []client.ChatMessage{client.UserMessage(question)},
		})
	}
	if err := add("q1", "What is 2+2?"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(add("q1", "Again?")) // refused, not written
	if err := add("q2", "Name a prime."); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Print(input.String())

	// The output file, as GET /v1/files/{output_file_id}/content returns it.
	output := `{"custom_id":"q2","status":"succeeded","response":{"id":"c2","object":"chat.completion","created":1,"model":"gpt-oss-120b","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"7"}}]}}
{"custom_id":"q1","status":"failed","error":{"code":"context_length_exceeded","message":"the prompt is too long"}}
`
	for res, err := range batchfile.Results(strings.NewReader(output)) {
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
	// cerebras: batch line 2 (custom_id "q1"): duplicate custom_id: line 1 has it already
	// {"custom_id":"q1","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"content":"What is 2+2?","role":"user"}],"model":"gpt-oss-120b"}}
	// {"custom_id":"q2","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"content":"Name a prime.","role":"user"}],"model":"gpt-oss-120b"}}
	// q2 succeeded: 7
	// q1 failed: cerebras: batch request failed: context_length_exceeded: the prompt is too long
}
