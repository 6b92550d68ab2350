package streaming_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

// exampleServer serves a short chat completion stream, as the API would.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, data := range []string{
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"llama3.1-8b","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"}}]}`,
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"llama3.1-8b","choices":[{"index":0,"delta":{"content":", world!"}}]}`,
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"llama3.1-8b","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`,
			`[DONE]`,
		} {
			_, _ = io.WriteString(w, "data: "+data+"\n\n")
		}
	}))
}

// Range over a stream with All; the loop's error, if any, comes last.
func ExampleStream_All() {
	srv := exampleServer()
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}

	stream := streaming.NewStream[client.ChatCompletionChunk](resp)
	for chunk, err := range stream.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		for _, choice := range chunk.Choices { // the last chunk may have none
			fmt.Print(choice.Delta.Content)
		}
	}
	fmt.Println()
	// Output: Hello, world!
}

// Fold a stream into the complete completion with the accumulator.
func ExampleChatCompletionAccumulator() {
	srv := exampleServer()
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}

	stream := streaming.NewStream[client.ChatCompletionChunk](resp)
	defer stream.Close()
	var acc streaming.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		fmt.Println("error:", err)
		return
	}
	completion := acc.ChatCompletion()
	if len(completion.Choices) == 0 { // the accumulator has one choice per index seen
		fmt.Println("no choice")
		return
	}
	choice := completion.Choices[0]
	fmt.Println(choice.Message.Content)
	if u := completion.Usage; u != nil { // only when the server sent it
		fmt.Println(choice.FinishReason, u.TotalTokens, "tokens")
	}
	// Output:
	// Hello, world!
	// stop 9 tokens
}
