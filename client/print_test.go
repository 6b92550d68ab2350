package client_test

import (
	"fmt"
	"testing"

	"github.com/cerebras-go/cerebras/client"
)

// TestValuesPrintReadably (issue 19): fmt shows what a value sends — a
// union's JSON, not its raw bytes; a set pointer's value (a zero
// included), not its address — with %v and %+v, for values and pointers.
func TestValuesPrintReadably(t *testing.T) {
	params := client.ChatCompletionNewParams{
		Model:       "m",
		Messages:    []client.ChatMessage{client.SystemMessage("be brief"), client.UserMessage("hi")},
		Temperature: client.Float(0),
	}
	wantParams := `{"messages":[{"content":"be brief","role":"system"},{"content":"hi","role":"user"}],"model":"m","temperature":0}`
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"UserMessage", client.UserMessage("hi"), `{"content":"hi","role":"user"}`},
		{"SystemMessage", client.SystemMessage("be brief"), `{"content":"be brief","role":"system"}`},
		{"unset ChatMessage", client.ChatMessage{}, `<unset>`},
		{"params", params, wantParams},
		{"*params", &params, wantParams},
		{"ToolChoiceAuto", client.ToolChoiceAuto(), `"auto"`},
		{"ResponseFormatJSONObject", client.ResponseFormatJSONObject(), `{"type":"json_object"}`},
		{"Prompt", client.Prompt("a"), `"a"`},
		{"Stop", client.Stop("x", "y"), `["x","y"]`},
		{"not HTML-escaped", client.ChatCompletionNewParams{Model: "a<b>&c", Messages: []client.ChatMessage{}}, `{"messages":[],"model":"a<b>&c"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(tc.v); got != tc.want {
				t.Errorf("fmt.Sprint = %s\nwant          %s", got, tc.want)
			}
			if got := fmt.Sprintf("%+v", tc.v); got != tc.want {
				t.Errorf("%%+v = %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestNestedValuesPrintReadably: a model inside another Go value (a slice,
// a struct of the caller's) prints the same way.
func TestNestedValuesPrintReadably(t *testing.T) {
	msgs := []client.ChatMessage{client.UserMessage("hi")}
	if got, want := fmt.Sprint(msgs), `[{"content":"hi","role":"user"}]`; got != want {
		t.Errorf("fmt.Sprint(messages) = %s, want %s", got, want)
	}
	call := struct {
		Params *client.ChatCompletionNewParams
		Stop   *client.StopSequences
	}{&client.ChatCompletionNewParams{Model: "m", Seed: client.Int64(0)}, client.Stop("x")}
	if got, want := fmt.Sprintf("%+v", call), `{Params:{"messages":null,"model":"m","seed":0} Stop:"x"}`; got != want {
		t.Errorf("%%+v = %s\nwant %s", got, want)
	}
}
