package otelcerebras

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/cerebras-go/cerebras/client"
)

// DefaultMaxContentBytes is the cap of WithContentCapture(0): 64 KiB of
// text for each content attribute. OTLP exporters and back ends refuse or
// cut spans far smaller than the model's context (many cap one attribute
// at tens of kilobytes, and a gRPC export at 4 MiB a batch), so the default
// keeps a captured conversation whole in the common case without letting
// one long prompt cost a batch of spans.
const DefaultMaxContentBytes = 64 << 10

// truncatedMark ends a text cut to the cap.
const truncatedMark = "…[truncated]"

// messagePart is a part of a captured message, in the conventions' JSON
// shape (gen-ai-input-messages.json): text, or a tool call.
type messagePart struct {
	Type      string `json:"type"`
	Content   string `json:"content,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// message is a captured message.
type message struct {
	Role         string        `json:"role"`
	Parts        []messagePart `json:"parts"`
	FinishReason string        `json:"finish_reason,omitempty"`
}

// capper cuts the texts of one attribute to its budget, after redacting
// them.
type capper struct{ left int }

func (c *capper) text(s string) string {
	s = redact(s)
	if len(s) <= c.left {
		c.left -= len(s)
		return s
	}
	n := c.left
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	c.left = 0
	return s[:n] + truncatedMark
}

// encodeMessages returns msgs as the conventions' JSON, each text redacted
// and the texts together cut to max bytes.
func encodeMessages(msgs []message, max int) string {
	c := capper{left: max}
	for i := range msgs {
		for j := range msgs[i].Parts {
			p := &msgs[i].Parts[j]
			p.Content = c.text(p.Content)
			p.ID, p.Name = redact(p.ID), redact(p.Name)
			p.Arguments = c.text(p.Arguments)
		}
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		return "" // not reached: strings and slices always encode
	}
	return string(b)
}

// inputMessages is the conversation of a chat request.
func inputMessages(p *client.ChatCompletionNewParams) []message {
	msgs := make([]message, 0, len(p.Messages))
	for _, m := range p.Messages {
		msgs = append(msgs, message{Role: client.MessageRole(m), Parts: []messagePart{{Type: "text", Content: client.MessageText(m)}}})
	}
	return msgs
}

// promptMessages is the prompt of a text completion request, when it is
// text.
func promptMessages(p *client.CompletionNewParams) []message {
	var texts []string
	if s, err := p.Prompt.AsPromptText(); err == nil {
		texts = []string{s}
	} else if ss, err := p.Prompt.AsPromptTexts(); err == nil {
		texts = ss
	}
	msgs := make([]message, 0, len(texts))
	for _, t := range texts {
		msgs = append(msgs, message{Role: "user", Parts: []messagePart{{Type: "text", Content: t}}})
	}
	return msgs
}

// chatOutput is the answer of a chat completion, a message a choice.
func chatOutput(c *client.ChatCompletion) []message {
	msgs := make([]message, 0, len(c.Choices))
	for _, ch := range c.Choices {
		m := message{Role: "assistant", FinishReason: string(ch.FinishReason)}
		if ch.Message.Content != "" || len(ch.Message.ToolCalls) == 0 {
			m.Parts = append(m.Parts, messagePart{Type: "text", Content: ch.Message.Content})
		}
		for _, call := range ch.Message.ToolCalls {
			m.Parts = append(m.Parts, messagePart{Type: "tool_call", ID: call.ID, Name: call.Function.Name, Arguments: call.Function.Arguments})
		}
		msgs = append(msgs, m)
	}
	return msgs
}
