// Command example prints the OpenTelemetry spans and metrics of a chat, a
// stream and a tool run, with the stdout exporters. It talks to
// CEREBRAS_BASE_URL when set (make demo points it at the fake API), and
// otherwise starts the fake (cerebrastest) itself, so it runs offline:
//
//	cd otelcerebras && go run ./example
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/otelcerebras"
	"github.com/cerebras-go/cerebras/toolrunner"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx := context.Background()
	opts := []client.Option{}
	if os.Getenv("CEREBRAS_BASE_URL") == "" {
		fake, err := cerebrastest.Start()
		if err != nil {
			return err
		}
		defer fake.Close()
		opts = append(opts, client.WithBaseURL(fake.URL), client.WithAPIKey("demo-key"))
	}

	// The usual OpenTelemetry setup, here with exporters that print.
	spans, err := stdouttrace.New()
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	metrics, err := stdoutmetric.New()
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics)))

	// The instrumentation: one Observer, given to the client and the runner.
	tel := otelcerebras.New(otelcerebras.WithTracerProvider(tp), otelcerebras.WithMeterProvider(mp))
	c, err := client.New(append(opts, client.WithObserver(tel))...)
	if err != nil {
		return err
	}
	defer c.Close()

	params := client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B,
		Messages: []client.ChatMessage{client.UserMessage("What's the weather in Paris?")}}

	fmt.Println("=== a chat: its span")
	if _, err := c.Chat.Completions.New(ctx, params); err != nil {
		return err
	}
	fmt.Println("=== a stream: its span")
	stream, err := c.Chat.Completions.NewStreaming(ctx, params)
	if err != nil {
		return err
	}
	for _, err := range stream.All() {
		if err != nil {
			return err
		}
	}
	fmt.Println("=== a tool run: execute_tool, the chats, then invoke_agent")
	weather := toolrunner.MustNewTool("get_weather", "Current weather for a city",
		func(_ context.Context, a struct {
			City string `json:"city"`
		}) (string, error) {
			return "21 °C in " + a.City, nil
		})
	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: []toolrunner.Tool{weather}, Observer: tel}
	if _, err := r.Run(ctx, params); err != nil {
		return err
	}
	fmt.Println("=== the metrics of the three")
	if err := tp.Shutdown(ctx); err != nil {
		return err
	}
	return mp.Shutdown(ctx) // exports the metrics
}
