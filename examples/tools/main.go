// Tools: the full loop. The model calls a tool, we run it and send the
// result back, and the model answers with it.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cerebras-go/cerebras/client"
)

// weatherArgs are the tool's arguments; their JSON schema is derived from
// the struct, in the strict form Cerebras requires.
type weatherArgs struct {
	City string `json:"city" description:"City name, such as Paris"`
}

func getWeather(a weatherArgs) string { return "21 °C and sunny in " + a.City }

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	tool, err := client.FunctionToolFor[weatherArgs]("get_weather", "Current weather for a city")
	if err != nil {
		log.Fatal(err)
	}
	params := client.ChatCompletionNewParams{
		Model:    cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages: []client.ChatMessage{client.UserMessage("What's the weather in Paris?")},
		Tools:    []client.Tool{tool},
	}
	for turn := 0; turn < 5; turn++ {
		resp, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			log.Fatal(err)
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			fmt.Println("assistant:", msg.Content)
			return
		}
		// Keep the assistant's turn (with its tool calls and reasoning) in
		// the conversation, then answer each call.
		params.Messages = append(params.Messages, client.AssistantMessageFrom(msg))
		for _, call := range msg.ToolCalls {
			args, err := client.DecodeArguments[weatherArgs](call)
			if err != nil {
				log.Fatal(err)
			}
			result := getWeather(args)
			fmt.Printf("tool call: %s(%+v) -> %q\n", call.Function.Name, args, result)
			params.Messages = append(params.Messages, client.ToolMessage(call, result))
		}
	}
	log.Fatal("the model kept calling tools")
}
