package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

func ExampleNew() {
	// A local fake of the API, so the example runs offline. In real code,
	// leave out WithBaseURL and set CEREBRAS_API_KEY.
	srv, err := cerebrastest.Start()
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()

	// New reads CEREBRAS_API_KEY, CEREBRAS_BASE_URL and CEREBRAS_CUSTOM_HEADERS;
	// options win over the environment.
	c, err := client.New(
		client.WithAPIKey("csk-example"),
		client.WithBaseURL(srv.URL),
		client.WithMaxRetries(5),
		client.WithRequestTimeout(30*time.Second),
	)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close() // stops the background TCP warm-up and frees idle connections

	// The same options apply to a single call, over the client's.
	resp, err := c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model:    client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("Hello!")},
	}, client.WithMaxRetries(0))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	if content := resp.Choices[0].Message.Content; content != "" {
		fmt.Println(content)
	}
	// Output: You said: Hello!
}
