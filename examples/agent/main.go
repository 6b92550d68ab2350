// Agent: the tool runner runs the loop. Two tools made from Go functions
// (the weather and a calculator); the model calls both in one turn, the
// runner runs them concurrently, sends their results back, and returns the
// model's answer with the whole transcript.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

// weatherArgs and addArgs are the tools' arguments; their strict JSON
// schemas are derived from the structs.
type weatherArgs struct {
	City string `json:"city" description:"City name, such as Paris"`
}

type addArgs struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// weather is a structured result: the runner sends it to the model as JSON.
type weather struct {
	City  string  `json:"city"`
	TempC float64 `json:"temp_c"`
	Sky   string  `json:"sky"`
}

func getWeather(_ context.Context, a weatherArgs) (weather, error) {
	return weather{City: a.City, TempC: 21, Sky: "sunny"}, nil
}

func add(_ context.Context, a addArgs) (string, error) {
	return fmt.Sprint(a.A + a.B), nil
}

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	weatherTool, err := toolrunner.NewTool("get_weather", "Current weather for a city", getWeather)
	if err != nil {
		log.Fatal(err)
	}
	addTool, err := toolrunner.NewTool("add", "Adds two numbers", add)
	if err != nil {
		log.Fatal(err)
	}
	params := client.ChatCompletionNewParams{
		Model:    cmp.Or(os.Getenv("CEREBRAS_MODEL"), client.ModelGPTOSS120B),
		Messages: []client.ChatMessage{client.UserMessage("Use get_weather for Paris, and add 1.5 and 1.5.")},
	}
	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: []toolrunner.Tool{weatherTool, addTool}, MaxTurns: 5}
	run, err := r.Run(context.Background(), params)
	if err != nil {
		log.Fatal(err)
	}
	for _, call := range run.Calls {
		if call.Err != nil { // the model's mistakes are data: the model was told
			fmt.Printf("tool call (turn %d): %s(%s) failed: %v\n", call.Turn, call.Name, call.Arguments, call.Err)
			continue
		}
		fmt.Printf("tool call (turn %d): %s(%s) -> %s\n", call.Turn, call.Name, call.Arguments, call.Result)
	}
	fmt.Println("assistant:", run.Content())
	fmt.Printf("%d turns, %d tokens in all\n", run.Turns, run.Usage.TotalTokens)
}
