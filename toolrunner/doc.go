// Package toolrunner runs the tool loop for the caller: send the
// conversation, run the tools the model asks for, send their results, and
// repeat until the model answers without calling a tool.
//
//	weather, err := toolrunner.NewTool("get_weather", "Current weather for a city",
//		func(ctx context.Context, a WeatherArgs) (string, error) { return "21 °C in " + a.City, nil })
//	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: []toolrunner.Tool{weather}}
//	t, err := r.Run(ctx, params)
//	fmt.Println(t.Content())
//
// Runner.Stream does the same over streams and yields an Event for every
// delta, tool call and result as it happens.
//
// What the model gets wrong is data, not a failure: a call of an unknown
// tool, arguments that do not decode, a tool that returns an error or panics
// are each answered with a tool message saying so, which the model can react
// to. Only the API's errors (a completion without choice 0 among them), ctx,
// Runner.MaxTurns and Runner.AbortOnToolError end a run early.
//
// The package is built only on package client's exported API: to write the
// loop by hand instead, see client.AssistantMessageFrom, client.ToolMessage
// and client.DecodeArguments.
package toolrunner
