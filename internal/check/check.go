// Package check holds the checks of request params that the client and the
// features built on it (the batch input writer) share: only what the SDK
// must know before sending, since the server owns every range and rule it
// can check itself.
package check

import (
	"bytes"
	"fmt"

	"github.com/cerebras-go/cerebras/gen"
)

// Problem is a param the SDK refuses: Param names it as the caller wrote
// it, Message says what is wrong and how to fix it. Callers turn it into
// their *client.ParamError.
type Problem struct {
	Param, Message string
}

// Chat checks the params of a chat completion: a model, at least one
// message, a response format that holds one, a role on every message and a
// tool_call_id on every tool message.
func Chat(p *gen.ChatCompletionNewParams) *Problem {
	if p.Model == "" {
		return &Problem{"params.Model", "params.Model is empty"}
	}
	if len(p.Messages) == 0 {
		return &Problem{"params.Messages", "params.Messages is empty: a chat needs at least one message"}
	}
	if p.ResponseFormat != nil {
		// An empty union: a helper could not encode what it was given (a
		// NaN, an infinity or a cycle in a schema), and would send null.
		if raw, _ := p.ResponseFormat.MarshalJSON(); len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
			return &Problem{"params.ResponseFormat", "params.ResponseFormat holds no format: its schema could not be encoded as JSON (a NaN, an infinity, a cycle, a func or a channel in it?)"}
		}
	}
	for i := range p.Messages {
		raw, _ := p.Messages[i].MarshalJSON() // the union's bytes, not a copy
		// Cheap byte checks first; only a message that may lack a role or may
		// be a tool message is decoded.
		if bytes.Contains(raw, []byte(`"role":"`)) && !bytes.Contains(raw, []byte(`"tool"`)) {
			continue
		}
		role, err := p.Messages[i].Discriminator()
		if err != nil || role == "" {
			return &Problem{fmt.Sprintf("params.Messages[%d]", i), fmt.Sprintf("message %d has no role: build messages with client.UserMessage, client.SystemMessage …", i)}
		}
		if role == "tool" {
			tm, err := p.Messages[i].AsToolMessageParam()
			if err != nil || tm.ToolCallID == "" {
				return &Problem{fmt.Sprintf("params.Messages[%d]", i), fmt.Sprintf("message %d is a tool message without a tool_call_id", i)}
			}
		}
	}
	return nil
}
