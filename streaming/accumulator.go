package streaming

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cerebras-go/cerebras/gen"
	"github.com/cerebras-go/cerebras/internal/decode"
)

// ChatCompletionAccumulator folds the chunks of a chat completion stream into
// the complete gen.ChatCompletion: the message text per choice (n > 1
// included), tool calls merged by index, finish reasons, logprobs, and the
// usage and time_info of the final chunk. Its cost is linear in the stream's
// size. The zero value is ready to use.
//
//	var acc streaming.ChatCompletionAccumulator
//	for chunk, err := range stream.All() {
//		if err != nil { return err }
//		acc.AddChunk(chunk)
//		for _, call := range acc.JustStartedToolCalls() { … } // show "calling get_weather…"
//		for _, call := range acc.JustFinishedToolCalls() { … } // run it
//	}
//	completion := acc.ChatCompletion()
type ChatCompletionAccumulator struct {
	// top carries the chunk fields the completion has too (id, model,
	// usage …), generated from the spec: a field added to both reaches
	// ChatCompletion with no hand edit.
	top      decode.CompletionFields
	choices  map[int]*choiceAcc
	last     *choiceAcc
	chunks   int
	started  []StartedToolCall
	finished []FinishedToolCall
}

// StartedToolCall is a tool call the model began: the accumulator reports
// each call once, with the Index and ID its FinishedToolCall will have.
type StartedToolCall struct {
	// ChoiceIndex is the index of the choice that makes the call.
	ChoiceIndex int
	// Index is the call's position among the choice's tool calls, as
	// FinishedToolCall and ChatCompletion have it.
	Index int
	// ID is the tool call id; "" only for a call that had none when it
	// finished.
	ID string
	// Name is the function name; "" only for a call that had none when it
	// finished.
	Name string
}

// FinishedToolCall is a tool call whose arguments are complete: its choice
// reported a finish_reason. The accumulator reports each call once.
type FinishedToolCall struct {
	// ChoiceIndex is the index of the choice that made the call.
	ChoiceIndex int
	// Index is the call's position among the choice's tool calls.
	Index int
	// ID is the tool call id, to answer with a tool message.
	ID string
	// Name is the function name.
	Name string
	// Arguments is the JSON-encoded arguments; "{}" when the model sent none.
	Arguments string
	// Err is nil when Arguments is valid JSON, and says what is wrong otherwise.
	Err error
}

type choiceAcc struct {
	index             int
	text              decode.MessageText  // the message's string fields, merged as the spec says
	fields            decode.ChoiceFields // the choice's own fields (finish_reason …), likewise
	logprobs          *gen.ChatCompletionLogprobs
	reasoningLogprobs *gen.ChatCompletionLogprobs
	tools             []*toolAcc       // in the order they first appeared
	byIndex           map[int]*toolAcc // the first call with each index: no scans
	byID              map[string]*toolAcc
	started           int // tools[:started] were reported started
	reported          int // tools[:reported] were reported finished
}

type toolAcc struct {
	index int
	id    string // the call's id, which routes the fragments that follow
	// fields and fn carry the call's other fields as the spec has them
	// (type, name …, generated: a new one reaches the completion);
	// the arguments are concatenated.
	fields decode.ToolCallFields
	fn     decode.FunctionFields
	named  bool // a fragment had the function's name
	args   strings.Builder
}

// AddChunk adds one chunk. It never fails: odd input (a missing or negative
// tool-call index, a missing id on a continuation, unknown values) is folded
// in as sensibly as it can be.
func (a *ChatCompletionAccumulator) AddChunk(c gen.ChatCompletionChunk) {
	a.started = a.started[:0]
	a.finished = a.finished[:0]
	a.chunks++
	a.top.Add(&c)
	for i := range c.Choices {
		a.addChoice(&c.Choices[i])
	}
}

func (a *ChatCompletionAccumulator) choice(index int) *choiceAcc {
	if a.last != nil && a.last.index == index {
		return a.last
	}
	if a.choices == nil {
		a.choices = make(map[int]*choiceAcc)
	}
	ch := a.choices[index]
	if ch == nil {
		ch = &choiceAcc{index: index}
		a.choices[index] = ch
	}
	a.last = ch
	return ch
}

func (a *ChatCompletionAccumulator) addChoice(cc *gen.ChatCompletionChunkChoice) {
	ch := a.choice(cc.Index)
	d := &cc.Delta
	ch.text.Add(d)
	ch.fields.Add(cc)
	for i := range d.ToolCalls {
		ch.addToolCall(&d.ToolCalls[i])
	}
	ch.logprobs = appendLogprobs(ch.logprobs, cc.Logprobs)
	ch.reasoningLogprobs = appendLogprobs(ch.reasoningLogprobs, cc.ReasoningLogprobs)
	a.startTools(ch, cc.FinishReason != "")
	if cc.FinishReason != "" {
		a.finishTools(ch)
	}
}

// startTools reports the choice's calls that are now started, each exactly
// once and in the order they appeared: a call is started once it has its id
// and its name, whichever fragment brings them, and at the latest when it
// finishes (all set). Routing is addToolCall's alone, so a started call is
// always the call that later finishes, with the same Index and ID.
func (a *ChatCompletionAccumulator) startTools(ch *choiceAcc, all bool) {
	for ch.started < len(ch.tools) {
		t := ch.tools[ch.started]
		if !all && (t.id == "" || !t.named) {
			return // the calls after it wait, to keep the model's order
		}
		var fn gen.ToolCallFunction
		t.fn.Fill(&fn)
		a.started = append(a.started, StartedToolCall{ChoiceIndex: ch.index, Index: t.index, ID: t.id, Name: fn.Name})
		ch.started++
	}
}

func (ch *choiceAcc) addToolCall(tc *gen.ToolCall) {
	var t *toolAcc
	index := -1 // no usable index
	if tc.Index != nil && *tc.Index >= 0 {
		index = *tc.Index
	}
	switch {
	case index >= 0:
		t = ch.byIndex[index]
	case len(ch.tools) > 0:
		// No usable index: a fragment without a new id continues the last call.
		t = ch.tools[len(ch.tools)-1]
	}
	if t != nil && tc.ID != "" && t.id != "" && tc.ID != t.id {
		// A fragment with another call's id never continues this one,
		// whatever its index says.
		t = ch.byID[tc.ID]
	}
	if t == nil {
		idx := len(ch.tools)
		if index >= 0 && ch.byIndex[index] == nil {
			idx = index
		}
		t = &toolAcc{index: idx}
		ch.tools = append(ch.tools, t)
		if ch.byIndex == nil {
			ch.byIndex = make(map[int]*toolAcc)
		}
		if ch.byIndex[idx] == nil {
			ch.byIndex[idx] = t
		}
	}
	if t.id == "" && tc.ID != "" {
		if ch.byID == nil {
			ch.byID = make(map[string]*toolAcc)
		}
		if ch.byID[tc.ID] == nil {
			ch.byID[tc.ID] = t
		}
	}
	if t.id == "" {
		t.id = tc.ID
	}
	t.fields.Add(tc)
	t.fn.Add(&tc.Function)
	t.named = t.named || tc.Function.Name != ""
	t.args.WriteString(tc.Function.Arguments)
}

// finishTools reports the choice's calls not yet reported, each exactly
// once: a tool runner must never run a call twice, and each call's
// arguments are validated once.
func (a *ChatCompletionAccumulator) finishTools(ch *choiceAcc) {
	fresh := ch.tools[ch.reported:]
	ch.reported = len(ch.tools)
	for _, t := range fresh {
		call := t.toolCall()
		args, name := call.Function.Arguments, call.Function.Name
		var err error
		if !json.Valid([]byte(args)) {
			err = fmt.Errorf("streaming: tool call %d (%s) arguments are not valid JSON: %.80q", t.index, name, args)
		}
		a.finished = append(a.finished, FinishedToolCall{
			ChoiceIndex: ch.index, Index: t.index, ID: call.ID, Name: name, Arguments: args, Err: err,
		})
	}
}

// toolCall is the call merged so far, without its index; one without a
// type is a function call, and one without arguments gets "{}".
func (t *toolAcc) toolCall() gen.ToolCall {
	var c gen.ToolCall
	t.fields.Fill(&c)
	t.fn.Fill(&c.Function)
	c.Function.Arguments = "{}"
	if t.args.Len() > 0 {
		c.Function.Arguments = t.args.String()
	}
	if c.Type == "" {
		c.Type = "function"
	}
	return c
}

func appendLogprobs(dst, src *gen.ChatCompletionLogprobs) *gen.ChatCompletionLogprobs {
	if src == nil {
		return dst
	}
	if dst == nil {
		dst = &gen.ChatCompletionLogprobs{}
	}
	dst.Content = append(dst.Content, src.Content...)
	dst.Refusal = append(dst.Refusal, src.Refusal...)
	return dst
}

// JustFinishedToolCalls returns the tool calls completed by the last AddChunk
// (those of a choice that just reported its finish_reason). With parallel
// tool calls, all of them finish together. Each call is reported exactly
// once: a later finish_reason of the same choice reports only the calls that
// began since, so running every call returned here never runs one twice. (A
// fragment that arrives for a call after it was reported still reaches
// ChatCompletion.) The slice is reused by AddChunk.
func (a *ChatCompletionAccumulator) JustFinishedToolCalls() []FinishedToolCall {
	return a.finished
}

// JustStartedToolCalls returns the tool calls that the last AddChunk
// started: the calls that now have both their id and their name, and, when
// a choice reported its finish_reason, every call of it not reported yet.
// Each call is reported exactly once, before or together with its finish
// (JustFinishedToolCalls), with the same ChoiceIndex, Index and ID, and the
// calls of a choice are reported in the order they appeared. The slice is
// reused by AddChunk.
func (a *ChatCompletionAccumulator) JustStartedToolCalls() []StartedToolCall {
	return a.started
}

// Chunks returns how many chunks were added.
func (a *ChatCompletionAccumulator) Chunks() int { return a.chunks }

// ChatCompletion returns the completion accumulated so far, with choices in
// index order. It can be called at any time; tool calls without arguments
// get "{}".
func (a *ChatCompletionAccumulator) ChatCompletion() gen.ChatCompletion {
	c := gen.ChatCompletion{Object: "chat.completion", Choices: make([]gen.ChatCompletionChoice, 0, len(a.choices))}
	a.top.Fill(&c)
	for _, ch := range a.choices {
		msg := gen.ChatCompletionMessage{}
		ch.text.Fill(&msg)
		if msg.Role == "" {
			msg.Role = "assistant"
		}
		for _, t := range ch.tools {
			call := t.toolCall()
			index := t.index // the caller's own copy
			call.Index = &index
			msg.ToolCalls = append(msg.ToolCalls, call)
		}
		choice := gen.ChatCompletionChoice{Message: msg, Logprobs: ch.logprobs, ReasoningLogprobs: ch.reasoningLogprobs}
		ch.fields.Fill(&choice)
		choice.Index = ch.index
		c.Choices = append(c.Choices, choice)
	}
	sort.Slice(c.Choices, func(i, j int) bool { return c.Choices[i].Index < c.Choices[j].Index })
	return c
}
