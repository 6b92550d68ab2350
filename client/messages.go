package client

import (
	"strings"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/streaming"
)

// The generated unions (gen.ChatMessage, gen.MessageContent …) are raw JSON
// with From/As methods that return errors. These constructors build them in
// one expression. Their From calls only marshal plain structs of strings,
// which cannot fail; if one ever did, the message would be empty and the
// request would be rejected before sending ("message N has no role").

// SystemMessage returns a system message: instructions for the model.
func SystemMessage(content string) ChatMessage {
	var m ChatMessage
	_ = m.FromSystemMessageParam(gen.SystemMessageParam{Content: textContent(content)})
	return m
}

// DeveloperMessage returns a developer message (for OpenAI models, the same
// as a system message).
func DeveloperMessage(content string) ChatMessage {
	var m ChatMessage
	_ = m.FromDeveloperMessageParam(gen.DeveloperMessageParam{Content: textContent(content)})
	return m
}

// UserMessage returns a user message with text content.
func UserMessage(content string) ChatMessage {
	var m ChatMessage
	_ = m.FromUserMessageParam(gen.UserMessageParam{Content: textContent(content)})
	return m
}

// UserMessageParts returns a user message made of content parts, such as
// text and images:
//
//	client.UserMessageParts(client.TextPart("What is this?"), client.ImageURLPart("https://…"))
func UserMessageParts(parts ...ContentPart) ChatMessage {
	var content gen.MessageContent
	_ = content.FromContentParts(parts)
	var m ChatMessage
	_ = m.FromUserMessageParam(gen.UserMessageParam{Content: content})
	return m
}

// TextPart returns a text content part.
func TextPart(text string) ContentPart {
	var p ContentPart
	_ = p.FromTextContentPart(gen.TextContentPart{Text: text})
	return p
}

// ImageURLPart returns an image part given by an https or data: URL.
func ImageURLPart(url string) ContentPart {
	var p ContentPart
	_ = p.FromImageURLContentPart(gen.ImageURLContentPart{ImageURL: gen.ImageURL{URL: url}})
	return p
}

// ImagePart returns an inline image part (base64 data or a data: URL).
func ImagePart(image string) ContentPart {
	var p ContentPart
	_ = p.FromImageContentPart(gen.ImageContentPart{Image: image})
	return p
}

// AssistantMessage returns an assistant message with text content, to
// replay a conversation.
func AssistantMessage(content string) ChatMessage {
	c := assistantText(content)
	var m ChatMessage
	_ = m.FromAssistantMessageParam(gen.AssistantMessageParam{Content: &c})
	return m
}

// AssistantMessageFrom turns a response message into the assistant message
// that continues the conversation, keeping its content, its reasoning (which
// the API does not retain between turns) and its tool calls.
//
//	params.Messages = append(params.Messages, client.AssistantMessageFrom(resp.Choices[0].Message))
func AssistantMessageFrom(msg ChatCompletionMessage) ChatMessage {
	a := gen.AssistantMessageParam{}
	if msg.Content != "" || len(msg.ToolCalls) == 0 {
		c := assistantText(msg.Content)
		a.Content = &c
	}
	if msg.Reasoning != "" {
		r := assistantText(msg.Reasoning)
		a.Reasoning = &r
	}
	for i, tc := range msg.ToolCalls {
		call := gen.AssistantToolCall{
			Type: gen.AssistantToolCallTypeFunction, Index: Int(i), ID: tc.ID,
			Function: gen.AssistantToolCallFunction{Name: tc.Function.Name, Arguments: tc.Function.Arguments},
		}
		if call.Function.Arguments == "" {
			call.Function.Arguments = "{}"
		}
		a.ToolCalls = append(a.ToolCalls, call)
	}
	var m ChatMessage
	_ = m.FromAssistantMessageParam(a)
	return m
}

// AnyToolCall is a tool call ToolMessage and DecodeArguments take: a
// ToolCall from a response's message, or a streaming.FinishedToolCall from a
// stream's accumulator. (An AssistantToolCall is a call as a request replays
// it, which AssistantMessageFrom builds; a toolrunner.Call is a call the tool
// runner ran, with its result.)
type AnyToolCall interface {
	ToolCall | streaming.FinishedToolCall
}

// ToolMessage returns content, the result of running call, as the tool
// message that answers it:
//
//	for _, call := range msg.ToolCalls {
//		params.Messages = append(params.Messages, client.ToolMessage(call, result))
//	}
//
// It takes the call, not its id, so the id and the result cannot be swapped
// (openai-go's ToolMessage takes two strings, content first). A call without
// an id gives a message the SDK refuses to send. To answer a call known only
// by its id, pass client.ToolCall{ID: id}.
func ToolMessage[C AnyToolCall](call C, content string) ChatMessage {
	var id string
	switch c := any(call).(type) {
	case ToolCall:
		id = c.ID
	case streaming.FinishedToolCall:
		id = c.ID
	}
	var m ChatMessage
	_ = m.FromToolMessageParam(gen.ToolMessageParam{ToolCallID: id, Content: assistantText(content)})
	return m
}

func textContent(s string) gen.MessageContent {
	var c gen.MessageContent
	_ = c.FromText(s)
	return c
}

func assistantText(s string) gen.TextContent {
	var c gen.TextContent
	_ = c.FromText(s)
	return c
}

// Reading messages back, to print or inspect a conversation:
//
//	for _, m := range params.Messages {
//		fmt.Printf("%s: %s\n", client.MessageRole(m), client.MessageText(m))
//	}

// MessageRole returns a message's role: "system", "developer", "user",
// "assistant" or "tool"; "" for a message built without one.
func MessageRole(m ChatMessage) string {
	role, _ := m.Discriminator()
	return role
}

// MessageText returns a message's text: its content when that is a string,
// its text parts joined when it is parts (image parts are left out), and ""
// when it has none, such as an assistant message that only calls tools.
func MessageText(m ChatMessage) string {
	switch MessageRole(m) {
	case "system":
		v, _ := m.AsSystemMessageParam()
		return ContentText(v.Content)
	case "developer":
		v, _ := m.AsDeveloperMessageParam()
		return ContentText(v.Content)
	case "user":
		v, _ := m.AsUserMessageParam()
		return ContentText(v.Content)
	case "assistant":
		v, _ := m.AsAssistantMessageParam()
		if v.Content == nil {
			return ""
		}
		return ContentText(*v.Content)
	case "tool":
		v, _ := m.AsToolMessageParam()
		return ContentText(v.Content)
	}
	return ""
}

// Content is either form a message's content takes: MessageContent (text or
// text and image parts) or TextContent (text or text parts).
type Content interface {
	MessageContent | TextContent
}

// ContentText returns the text of a content: the string itself, or its text
// parts joined (image parts are left out).
func ContentText[C Content](c C) string {
	switch c := any(c).(type) {
	case MessageContent:
		if s, err := c.AsText(); err == nil {
			return s
		}
		parts, _ := c.AsContentParts()
		var b strings.Builder
		for _, p := range parts {
			if tp, err := p.AsTextContentPart(); err == nil && tp.Type == gen.TextContentPartTypeText {
				b.WriteString(tp.Text)
			}
		}
		return b.String()
	case TextContent:
		if s, err := c.AsText(); err == nil {
			return s
		}
		parts, _ := c.AsTextContentParts()
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}
