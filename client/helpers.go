package client

import (
	"github.com/cerebras-go/cerebras/gen"
)

// Ptr returns a pointer to v, for optional fields:
// params.Temperature = client.Ptr(0.0) sends "temperature": 0.
func Ptr[T any](v T) *T { return &v }

// Float returns a pointer to v, for optional number fields.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for optional integer fields.
func Int(v int) *int { return &v }

// Int64 returns a pointer to v, for optional 64-bit fields such as Seed.
func Int64(v int64) *int64 { return &v }

// String returns a pointer to v, for optional string fields.
func String(v string) *string { return &v }

// Bool returns a pointer to v, for optional boolean fields.
func Bool(v bool) *bool { return &v }

// Stop returns stop sequences: one sequence is sent as a string, several as
// an array.
func Stop(sequences ...string) *StopSequences {
	var s StopSequences
	if len(sequences) == 1 {
		_ = s.FromStopSequence(sequences[0])
	} else {
		_ = s.FromStopSequenceList(append([]string{}, sequences...))
	}
	return &s
}

// ToolChoiceAuto lets the model decide whether to call tools.
func ToolChoiceAuto() *ToolChoice { return toolChoiceOption(gen.ToolChoiceOptionAuto) }

// ToolChoiceNone forbids tool calls.
func ToolChoiceNone() *ToolChoice { return toolChoiceOption(gen.ToolChoiceOptionNone) }

// ToolChoiceRequired makes the model call one or more tools.
func ToolChoiceRequired() *ToolChoice { return toolChoiceOption(gen.ToolChoiceOptionRequired) }

func toolChoiceOption(o gen.ToolChoiceOption) *ToolChoice {
	var t ToolChoice
	_ = t.FromToolChoiceOption(o)
	return &t
}

// ToolChoiceFunction forces a call of the named function.
func ToolChoiceFunction(name string) *ToolChoice {
	var t ToolChoice
	_ = t.FromNamedToolChoice(gen.NamedToolChoice{Type: gen.NamedToolChoiceTypeFunction, Function: gen.NamedToolChoiceFunction{Name: name}})
	return &t
}

// FunctionTool returns a function tool whose parameters are a JSON Schema
// you wrote (nil for a function without parameters): use it when the schema
// comes from elsewhere. FunctionToolFor derives a strict schema from a Go
// type, and toolrunner.NewTool adds the Go function that runs the tool, for
// the tool runner. Set Function.Strict for constrained decoding of the
// arguments.
func FunctionTool(name, description string, parameters map[string]any) Tool {
	t := Tool{Type: gen.ToolTypeFunction, Function: gen.FunctionDefinition{Name: name, Parameters: parameters}}
	if description != "" {
		t.Function.Description = &description
	}
	return t
}

// ResponseFormatText asks for plain text (the default).
func ResponseFormatText() *ResponseFormat {
	var f ResponseFormat
	_ = f.FromResponseFormatTextParam(gen.ResponseFormatTextParam{})
	return &f
}

// ResponseFormatJSONObject asks for a JSON object (JSON mode).
func ResponseFormatJSONObject() *ResponseFormat {
	var f ResponseFormat
	_ = f.FromResponseFormatJSONObjectParam(gen.ResponseFormatJSONObjectParam{})
	return &f
}

// ResponseFormatJSONSchema asks for output that follows a JSON schema
// (structured outputs); strict constrains decoding to it.
// ResponseFormatFor derives the schema from a Go type. A schema that JSON
// cannot encode (a NaN, an infinity, a cycle) leaves the format empty, and
// a call with it fails with a *ParamError naming params.ResponseFormat,
// before anything is sent.
func ResponseFormatJSONSchema(name string, schema map[string]any, strict bool) *ResponseFormat {
	var f ResponseFormat
	_ = f.FromResponseFormatJSONSchemaParam(gen.ResponseFormatJSONSchemaParam{
		JSONSchema: gen.JSONSchemaFormat{Name: name, Schema: schema, Strict: &strict},
	})
	return &f
}

// Prompt returns a text completion prompt of one or more strings.
func Prompt(prompts ...string) CompletionPrompt {
	var p CompletionPrompt
	if len(prompts) == 1 {
		_ = p.FromPromptText(prompts[0])
	} else {
		_ = p.FromPromptTexts(append([]string{}, prompts...))
	}
	return p
}

// PromptTokens returns a text completion prompt given as token ids.
func PromptTokens(tokens ...int) CompletionPrompt {
	var p CompletionPrompt
	_ = p.FromPromptTokenIDs(append([]int{}, tokens...))
	return p
}
