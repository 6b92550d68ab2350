package otelcerebras_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/otelcerebras"
)

// One option makes every call of a client a span. Here the spans go to an
// in-memory recorder; in a program, New() alone uses the global providers
// that the OpenTelemetry setup registered.
func Example() {
	fake, err := cerebrastest.Start()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	c, err := client.New(client.WithBaseURL(fake.URL), client.WithAPIKey("test"),
		client.WithObserver(otelcerebras.New(otelcerebras.WithTracerProvider(tp))))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_, err = c.Chat.Completions.New(context.Background(), client.ChatCompletionNewParams{
		Model: client.ModelGPTOSS120B, Messages: []client.ChatMessage{client.UserMessage("Hello!")}})
	if err != nil {
		panic(err)
	}
	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.response.finish_reasons":
				fmt.Printf("  %s = %s\n", kv.Key, kv.Value.String())
			}
		}
	}
	// Output:
	// chat gpt-oss-120b client
	//   gen_ai.response.finish_reasons = ["stop"]
	//   gen_ai.usage.input_tokens = 4
	//   gen_ai.usage.output_tokens = 14
}
