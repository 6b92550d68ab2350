package toolrunner

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/cerebras-go/cerebras/client"
)

// Tool is a tool a Runner can call: its definition, sent to the model, and
// the Go function that runs it. Make one with NewTool. (client.Tool is the
// definition alone, as a request holds it: use it, with
// client.FunctionToolFor, to write the tool loop by hand.)
type Tool struct {
	def  client.Tool
	call func(ctx context.Context, arguments string) (string, error)
}

// NewTool returns a tool that runs fn. The strict JSON schema of its
// parameters is derived from A, a struct, as client.FunctionToolFor does;
// the arguments the model sends are decoded into an A for fn. fn's result is
// sent to the model as it is when R is a string, and JSON-encoded otherwise.
// fn must return when ctx is done: a run waits for its tools.
func NewTool[A, R any](name, description string, fn func(ctx context.Context, args A) (R, error)) (Tool, error) {
	if fn == nil {
		return Tool{}, &client.ParamError{Param: "fn", Message: fmt.Sprintf("toolrunner.NewTool(%q): nil function", name)}
	}
	def, err := client.FunctionToolFor[A](name, description)
	if err != nil {
		return Tool{}, err
	}
	call := func(ctx context.Context, arguments string) (string, error) {
		args, err := client.DecodeArguments[A](client.ToolCall{Function: client.ToolCallFunction{Arguments: arguments}})
		if err != nil {
			return "", &argumentsError{err}
		}
		r, err := fn(ctx, args)
		if err != nil {
			return "", err
		}
		if s, ok := any(r).(string); ok {
			return s, nil
		}
		b, err := json.Marshal(r)
		if err != nil {
			return "", fmt.Errorf("cerebras: encoding the result of tool %s: %w", name, err)
		}
		return string(b), nil
	}
	return Tool{def: def, call: call}, nil
}

// MustNewTool is NewTool for tools made once, such as in a package-level
// var: it panics where NewTool returns an error (a nil fn, or an A that has
// no strict schema), which is a mistake in the program, not in its input.
//
//	var weather = toolrunner.MustNewTool("get_weather", "Current weather for a city", getWeather)
func MustNewTool[A, R any](name, description string, fn func(ctx context.Context, args A) (R, error)) Tool {
	t, err := NewTool(name, description, fn)
	if err != nil {
		panic(err)
	}
	return t
}

// Name returns the tool's name, which the model calls it by.
func (t Tool) Name() string { return t.def.Function.Name }

// Definition returns the tool's definition, as sent in the request's tools.
func (t Tool) Definition() client.Tool { return t.def }

// argumentsError marks a decoding failure, which is the model's mistake and
// never aborts a run.
type argumentsError struct{ err error }

func (e *argumentsError) Error() string { return e.err.Error() }

// safeCall runs the tool, turning a panic into a *PanicError.
func safeCall(ctx context.Context, tool Tool, arguments string) (result string, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = "", &PanicError{Tool: tool.Name(), Value: v, Stack: string(debug.Stack())}
		}
	}()
	return tool.call(ctx, arguments)
}
