package cerebrastest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/apierror"
)

// choicePlan is what the model answers in one choice.
type choicePlan struct {
	reasoning string
	tokens    []string // content tokens
	toolCalls []gen.ToolCall
	finish    gen.FinishReason
}

func (x *exchange) chat() {
	var req gen.ChatCompletionNewParams
	if !x.readRequest(&req, func() string { return req.Model }) {
		return
	}
	if req.ToolChoice != nil && len(req.Tools) == 0 {
		if opt, err := req.ToolChoice.AsToolChoiceOption(); err != nil || opt != gen.ToolChoiceOptionNone {
			x.fail(http.StatusBadRequest, "tool_choice requires tools.", "invalid_request_error", "tool_choice", "wrong_api_format")
			return
		}
	}
	conv := readConversation(req.Messages)
	n := 1
	if req.N != nil && *req.N > 1 {
		n = *req.N
	}
	plans := make([]choicePlan, n)
	for i := range plans {
		plans[i] = x.planChat(&req, conv, i)
	}
	usage := chatUsage(conv, plans)
	id := fmt.Sprintf("chatcmpl-fake-%d", x.s.ids.Add(1))
	logprobs := req.Logprobs != nil && *req.Logprobs
	top := 0
	if req.TopLogprobs != nil {
		top = *req.TopLogprobs
	}
	if !x.admit(usage.TotalTokens) {
		return
	}
	if req.Stream != nil && *req.Stream {
		x.streamChat(id, req.Model, plans, usage, logprobs, top)
		return
	}
	if !x.firstEventDelay(false) {
		return
	}
	b, _ := json.Marshal(chatCompletion(id, req.Model, plans, usage, logprobs, top))
	x.s.writeJSON(x.w, http.StatusOK, nil, string(b), "ChatCompletion")
}

// chatCompletion assembles the answer to a non-streaming chat request.
func chatCompletion(id, model string, plans []choicePlan, usage *gen.Usage, logprobs bool, top int) gen.ChatCompletion {
	c := gen.ChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
		SystemFingerprint: "fp_cerebrastest", Usage: usage, TimeInfo: timeInfo()}
	for i, p := range plans {
		msg := gen.ChatCompletionMessage{Role: "assistant"}
		if p.toolCalls == nil || len(p.tokens) > 0 {
			msg.Content = strings.Join(p.tokens, "")
		}
		if p.reasoning != "" {
			msg.Reasoning = p.reasoning
		}
		msg.ToolCalls = p.toolCalls
		ch := gen.ChatCompletionChoice{Index: i, Message: msg, FinishReason: p.finish}
		if logprobs {
			ch.Logprobs = &gen.ChatCompletionLogprobs{Content: tokenLogprobs(p.tokens, top)}
		}
		c.Choices = append(c.Choices, ch)
	}
	return c
}

// conversation is what the model reads from the messages.
type conversation struct {
	lastUser string
	lastRole string
	lastTool string
	// toolResults are the tool messages since the last other message: the
	// answers to the last turn's calls.
	toolResults []string
	words       int
	messages    int
}

func readConversation(msgs []gen.ChatMessage) conversation {
	var c conversation
	for _, m := range msgs {
		role, _ := m.Discriminator()
		var text string
		switch role {
		case "system":
			v, _ := m.AsSystemMessageParam()
			text = messageText(v.Content)
		case "developer":
			v, _ := m.AsDeveloperMessageParam()
			text = messageText(v.Content)
		case "user":
			v, _ := m.AsUserMessageParam()
			text = messageText(v.Content)
			c.lastUser = text
		case "assistant":
			v, _ := m.AsAssistantMessageParam()
			if v.Content != nil {
				text = textContent(*v.Content)
			}
		case "tool":
			v, _ := m.AsToolMessageParam()
			text = textContent(v.Content)
			c.lastTool = text
			c.toolResults = append(c.toolResults, text)
		}
		if role != "tool" {
			c.toolResults = nil
		}
		c.lastRole = role
		c.words += len(strings.Fields(text))
		c.messages++
	}
	return c
}

func messageText(mc gen.MessageContent) string {
	if s, err := mc.AsText(); err == nil {
		return s
	}
	parts, _ := mc.AsContentParts()
	var b strings.Builder
	for _, p := range parts {
		if d, _ := p.Discriminator(); d == "text" {
			t, _ := p.AsTextContentPart()
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t.Text)
		} else if d != "" {
			b.WriteString(" [image]")
		}
	}
	return strings.TrimSpace(b.String())
}

func textContent(tc gen.TextContent) string {
	if s, err := tc.AsText(); err == nil {
		return s
	}
	parts, _ := tc.AsTextContentParts()
	var texts []string
	for _, p := range parts {
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, " ")
}

// planChat decides one choice's answer.
func (x *exchange) planChat(req *gen.ChatCompletionNewParams, conv conversation, choice int) choicePlan {
	var p choicePlan
	if tools := chooseTools(req, conv); len(tools) > 0 {
		var names []string
		for i, tool := range tools {
			args, _ := json.Marshal(fromSchema(tool.Function.Parameters, conv.lastUser))
			index := i
			p.toolCalls = append(p.toolCalls, gen.ToolCall{
				Index: &index, ID: fmt.Sprintf("call_fake_%d_%d", x.s.ids.Add(1), choice), Type: "function",
				Function: gen.ToolCallFunction{Name: tool.Function.Name, Arguments: string(args)},
			})
			names = append(names, tool.Function.Name)
		}
		p.finish = gen.FinishReasonToolCalls
		p.reasoning = reasoning(req, conv, "I should call "+strings.Join(names, " and ")+".")
		return p
	}

	var content string
	switch {
	case conv.lastRole == "tool" && len(conv.toolResults) > 1:
		content = "According to the tools: " + strings.Join(conv.toolResults, "; ")
	case conv.lastRole == "tool":
		content = "According to the tool: " + conv.lastTool
	case conv.lastUser == "":
		content = "Hello! How can I assist you today?"
	default:
		content = "You said: " + conv.lastUser
	}
	if choice > 0 {
		content += fmt.Sprintf(" (take %d)", choice+1)
	}
	if req.ResponseFormat != nil {
		if kind, _ := req.ResponseFormat.Discriminator(); kind == "json_object" {
			b, _ := json.Marshal(map[string]string{"answer": content})
			content = string(b)
		} else if kind == "json_schema" {
			f, _ := req.ResponseFormat.AsResponseFormatJSONSchemaParam()
			b, _ := json.Marshal(fromSchema(f.JSONSchema.Schema, conv.lastUser))
			content = string(b)
		}
	}
	p.reasoning = reasoning(req, conv, "I will repeat the message back.")
	if req.ReasoningFormat != nil && *req.ReasoningFormat == gen.ReasoningFormatRaw && p.reasoning != "" {
		content = "<think>" + p.reasoning + "</think>" + content
		p.reasoning = ""
	}
	p.finish = gen.FinishReasonStop
	if req.Stop != nil {
		var stops []string
		if s, err := req.Stop.AsStopSequence(); err == nil {
			stops = []string{s}
		} else {
			stops, _ = req.Stop.AsStopSequenceList()
		}
		for _, s := range stops {
			if i := strings.Index(content, s); s != "" && i >= 0 {
				content = content[:i]
			}
		}
	}
	p.tokens = tokenize(content)
	limit := req.MaxCompletionTokens
	if limit == nil {
		limit = req.MaxTokens
	}
	if limit != nil && *limit > 0 && len(p.tokens) > *limit {
		p.tokens = p.tokens[:*limit]
		p.finish = gen.FinishReasonLength
	}
	return p
}

// chooseTools returns the tools the model calls in one turn: every tool the
// last user message names, in parallel (unless parallel_tool_calls is
// false: then the first of them); else the tool chooseTool picks.
func chooseTools(req *gen.ChatCompletionNewParams, conv conversation) []*gen.Tool {
	tool := chooseTool(req, conv)
	if tool == nil {
		return nil
	}
	if req.ToolChoice != nil {
		if _, err := req.ToolChoice.AsToolChoiceOption(); err != nil {
			return []*gen.Tool{tool} // a named choice calls that tool alone
		}
	}
	if req.ParallelToolCalls != nil && !*req.ParallelToolCalls {
		return []*gen.Tool{tool}
	}
	var named []*gen.Tool
	for i := range req.Tools {
		if mentions(conv.lastUser, req.Tools[i].Function.Name) {
			named = append(named, &req.Tools[i])
		}
	}
	if len(named) < 2 {
		return []*gen.Tool{tool}
	}
	return named
}

// mentions reports whether text names the tool, as get_weather or "get weather".
func mentions(text, tool string) bool {
	lower, name := strings.ToLower(text), strings.ToLower(tool)
	return strings.Contains(lower, name) || strings.Contains(lower, strings.ReplaceAll(name, "_", " "))
}

// chooseTool returns the tool the model calls, or nil to answer in text: a
// named or required choice always calls; "auto" calls when the user spoke
// last (and answers from the tool's result after it).
func chooseTool(req *gen.ChatCompletionNewParams, conv conversation) *gen.Tool {
	if len(req.Tools) == 0 {
		return nil
	}
	mode := gen.ToolChoiceOptionAuto
	if req.ToolChoice != nil {
		if opt, err := req.ToolChoice.AsToolChoiceOption(); err == nil {
			mode = opt
		} else if named, err := req.ToolChoice.AsNamedToolChoice(); err == nil {
			for i := range req.Tools {
				if req.Tools[i].Function.Name == named.Function.Name {
					return &req.Tools[i]
				}
			}
		}
	}
	switch {
	case mode == gen.ToolChoiceOptionNone:
		return nil
	case mode == gen.ToolChoiceOptionAuto && conv.lastRole != "user":
		return nil
	}
	for i := range req.Tools {
		if mentions(conv.lastUser, req.Tools[i].Function.Name) {
			return &req.Tools[i]
		}
	}
	return &req.Tools[0]
}

func reasoning(req *gen.ChatCompletionNewParams, conv conversation, plan string) string {
	if req.DisableReasoning != nil && *req.DisableReasoning {
		return ""
	}
	if req.ReasoningFormat != nil && *req.ReasoningFormat == gen.ReasoningFormatHidden {
		return ""
	}
	on := reasoningModels[req.Model]
	if req.ReasoningEffort != nil {
		on = *req.ReasoningEffort != gen.ReasoningEffortNone
	}
	if !on {
		return ""
	}
	return fmt.Sprintf("The user wrote %d words. %s", len(strings.Fields(conv.lastUser)), plan)
}

// tokenize splits text into tokens that concatenate back to it: each word
// with the spaces before it.
func tokenize(s string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || (s[i] == ' ' && s[i-1] != ' ') {
			out = append(out, s[start:i])
			start = i
		}
	}
	return out
}

func tokenLogprobs(tokens []string, top int) []gen.TokenLogprob {
	out := make([]gen.TokenLogprob, len(tokens))
	for i, t := range tokens {
		lp := -0.01 * float64(i%10+1)
		out[i] = gen.TokenLogprob{Token: t, Logprob: lp, Bytes: bytesOf(t), TopLogprobs: []gen.TopLogprob{}}
		for k := 0; k < top; k++ {
			alt := t
			if k > 0 {
				alt = fmt.Sprintf("%s~%d", t, k)
			}
			out[i].TopLogprobs = append(out[i].TopLogprobs, gen.TopLogprob{Token: alt, Logprob: lp - float64(k), Bytes: bytesOf(alt)})
		}
	}
	return out
}

func bytesOf(s string) []int {
	b := make([]int, len(s))
	for i := range len(s) {
		b[i] = int(s[i])
	}
	return b
}

func chatUsage(conv conversation, plans []choicePlan) *gen.Usage {
	prompt := conv.words + 3*conv.messages
	completion, reasoningTokens := 0, 0
	for _, p := range plans {
		completion += len(p.tokens) + 5*len(p.toolCalls)
		reasoningTokens += len(strings.Fields(p.reasoning))
	}
	completion += reasoningTokens
	return &gen.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		PromptTokensDetails:     gen.PromptTokensDetails{CachedTokens: 0},
		CompletionTokensDetails: gen.CompletionTokensDetails{ReasoningTokens: reasoningTokens}}
}

func timeInfo() *gen.TimeInfo {
	return &gen.TimeInfo{QueueTime: 0.000073161, PromptTime: 0.0010744798888888889,
		CompletionTime: 0.005658071111111111, TotalTime: 0.022224903106689453, Created: float64(created)}
}

// streamChat sends the plans as chunks: a role chunk, reasoning and content
// deltas (or tool-call fragments), a finish chunk per choice, a final chunk
// with usage and time_info, and [DONE].
func (x *exchange) streamChat(id, model string, plans []choicePlan, usage *gen.Usage, logprobs bool, top int) {
	base := gen.ChatCompletionChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, SystemFingerprint: "fp_cerebrastest"}
	var events []string
	emit := func(choices ...gen.ChatCompletionChunkChoice) {
		c := base
		c.Choices = choices
		b, _ := json.Marshal(c)
		events = append(events, string(b))
	}
	for i, p := range plans {
		emit(gen.ChatCompletionChunkChoice{Index: i, Delta: gen.ChatCompletionChunkDelta{Role: "assistant", Content: ""}})
		for _, r := range tokenize(p.reasoning) {
			emit(gen.ChatCompletionChunkChoice{Index: i, Delta: gen.ChatCompletionChunkDelta{Reasoning: r}})
		}
		lps := tokenLogprobs(p.tokens, top)
		for k, t := range p.tokens {
			ch := gen.ChatCompletionChunkChoice{Index: i, Delta: gen.ChatCompletionChunkDelta{Content: t}}
			if logprobs {
				ch.Logprobs = &gen.ChatCompletionLogprobs{Content: lps[k : k+1]}
			}
			emit(ch)
		}
		for _, tc := range p.toolCalls {
			emit(gen.ChatCompletionChunkChoice{Index: i, Delta: gen.ChatCompletionChunkDelta{ToolCalls: []gen.ToolCall{{
				Index: tc.Index, ID: tc.ID, Type: tc.Type, Function: gen.ToolCallFunction{Name: tc.Function.Name, Arguments: ""}}}}})
			args := tc.Function.Arguments
			for start := 0; start < len(args); start += 8 {
				emit(gen.ChatCompletionChunkChoice{Index: i, Delta: gen.ChatCompletionChunkDelta{ToolCalls: []gen.ToolCall{{
					Index: tc.Index, Function: gen.ToolCallFunction{Arguments: args[start:min(start+8, len(args))]}}}}})
			}
		}
		emit(gen.ChatCompletionChunkChoice{Index: i, Delta: gen.ChatCompletionChunkDelta{}, FinishReason: p.finish})
	}
	final := base
	final.Choices = []gen.ChatCompletionChunkChoice{}
	final.Usage, final.TimeInfo = usage, timeInfo()
	b, _ := json.Marshal(final)
	events = append(events, string(b))
	x.writeEvents(events, "ChatCompletionChunk")
}

// writeEvents sends data events and [DONE], injecting the scripted fault.
func (x *exchange) writeEvents(events []string, schema string) {
	sc := x.script
	h := x.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set(apierror.HeaderXRequestID, x.s.requestID())
	x.w.WriteHeader(http.StatusOK)
	if !x.firstEventDelay(true) {
		return
	}
	flusher, _ := x.w.(http.Flusher)
	for i, ev := range events {
		if sc.Fault != NoFault && i == sc.After {
			switch sc.Fault {
			case ResetMidStream:
				if flusher != nil {
					flusher.Flush() // mid-stream: after the headers, even with After 0
				}
				x.reset()
				return
			case StallMidStream:
				flusher.Flush()
				if !x.s.wait(x.r.Context(), sc.Stall) {
					return
				}
			case TruncateStream:
				return
			case InBandError:
				status := sc.Status
				if status == 0 {
					status = http.StatusInternalServerError
				}
				e := fmt.Sprintf(`{"error":{"message":"Injected in-band error.","type":"server_error","param":null,"code":"injected_fault"},"status_code":%d}`, status)
				x.s.check("ErrorChunk", []byte(e))
				_, _ = io.WriteString(x.w, "data: "+e+"\n\n")
				return
			}
		}
		x.s.check(schema, []byte(ev))
		_, _ = io.WriteString(x.w, "data: "+ev+"\n\n")
		if flusher != nil {
			flusher.Flush()
		}
		if x.s.chunkDelay > 0 && !x.s.wait(x.r.Context(), x.s.chunkDelay) {
			return
		}
	}
	_, _ = io.WriteString(x.w, "data: [DONE]\n\n")
}
