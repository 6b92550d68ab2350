// Error handling: inspect API errors with errors.As and errors.Is, read the
// rate-limit headers, and watch a rate-limited call being retried.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/cerebras-go/cerebras/client"
)

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	model := cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B)

	// 1. A model that does not exist: a 404 *client.APIError.
	_, err = c.Chat.Completions.New(ctx, client.ChatCompletionNewParams{
		Model:    "no-such-model",
		Messages: []client.ChatMessage{client.UserMessage("hi")},
	})
	var apiErr *client.APIError
	switch {
	case errors.As(err, &apiErr):
		fmt.Printf("API error: status %d, type %q, code %q, request id %q\n", apiErr.StatusCode, apiErr.Type, apiErr.Code, apiErr.RequestID)
		fmt.Println("not found:", errors.Is(err, client.ErrNotFound))
	case err != nil:
		log.Fatal(err)
	default:
		log.Fatal("expected an error")
	}

	// 2. A rate-limited call is retried after the server's retry-after-ms.
	// Against the fake server (package cerebrastest), this header makes the
	// first attempt a 429; the real API ignores it. The debug log shows the
	// attempts.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level:       slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return dropTime(a) },
	}))
	var resp *http.Response
	_, err = c.Chat.Completions.New(ctx, client.ChatCompletionNewParams{
		Model:    model,
		Messages: []client.ChatMessage{client.UserMessage("hi")},
	}, client.WithHeader("X-Cerebrastest-Fault", "429-once"), client.WithLogger(logger), client.WithResponseInto(&resp))
	if err != nil {
		log.Fatal(err)
	}
	rl := client.ParseRateLimit(resp.Header)
	fmt.Printf("succeeded after retrying; tokens left this minute: %d of %d\n", rl.TokensMinute.Remaining, rl.TokensMinute.Limit)
}

func dropTime(a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey || a.Key == "duration" {
		return slog.Attr{}
	}
	return a
}
