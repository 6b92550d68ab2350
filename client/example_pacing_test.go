package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
)

// Pace calls to the rate limit instead of sending them into 429s: here the
// day's budget is two requests, so the third call is not sent, and fails at
// once, since its reset is beyond the maximum wait.
func ExampleWithRateLimitPacing() {
	srv, err := cerebrastest.Start(cerebrastest.WithRateLimits(cerebrastest.RateLimits{RequestsPerDay: 2}))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer srv.Close()
	c, err := client.New(client.WithAPIKey("csk-example"), client.WithBaseURL(srv.URL), client.WithRateLimitPacing(true))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer c.Close()
	params := client.ChatCompletionNewParams{
		Model:               client.ModelGPTOSS120B,
		Messages:            []client.ChatMessage{client.UserMessage("Hello!")},
		MaxCompletionTokens: client.Int(100), // what pacing reserves, and the API counts
	}
	for i := range 3 {
		_, err := c.Chat.Completions.New(context.Background(), params)
		var wait *client.RateLimitWaitError
		switch {
		case errors.As(err, &wait):
			fmt.Printf("call %d not sent: the %s budget resets in about %s\n", i, wait.Window, wait.Wait.Round(time.Hour))
		case err != nil:
			fmt.Println("error:", err)
		default:
			fmt.Printf("call %d answered\n", i)
		}
	}
	fmt.Println("the server got", len(srv.Requests()), "calls")
	// Output:
	// call 0 answered
	// call 1 answered
	// call 2 not sent: the requests-day budget resets in about 24h0m0s
	// the server got 2 calls
}
