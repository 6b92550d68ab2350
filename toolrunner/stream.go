package client

import (
	"cmp"
	"context"
	"fmt"
	"iter"

	"github.com/cerebras-go/cerebras/streaming"
)

// ToolRunEventKind says what a ToolRunEvent reports.
type ToolRunEventKind int

// The events of a streaming run, in the order a turn yields them: reasoning
// and content deltas and tool calls started and finished as they stream,
// then the tools' results in the model's order, then the turn's end; after
// the last turn, the run's end. Their names start with ToolRun: they are
// the kinds of a ToolRunEvent, not of a stream's events.
const (
	// ToolRunContentDelta carries new content text in Text.
	ToolRunContentDelta ToolRunEventKind = iota + 1
	// ToolRunReasoningDelta carries new reasoning text in Text.
	ToolRunReasoningDelta
	// ToolRunCallStarted reports a tool call the model began, once its
	// id and name have streamed (at the latest just before it finishes):
	// Tool has its Index, ID and Name, as its ToolRunCallFinished will.
	ToolRunCallStarted
	// ToolRunCallFinished reports a tool call whose arguments are
	// complete; its tool starts running. Tool has its Arguments too (and
	// already its Result and Err for a call that runs no tool: an unknown
	// tool or a repeated id).
	ToolRunCallFinished
	// ToolRunCallResult reports a call's outcome: Tool is complete.
	ToolRunCallResult
	// ToolRunTurnDone ends a turn: Completion is its completion.
	ToolRunTurnDone
	// ToolRunDone ends the run: Run is the transcript.
	ToolRunDone
)

// String names the kind, such as "content delta".
func (k ToolRunEventKind) String() string {
	switch k {
	case ToolRunContentDelta:
		return "content delta"
	case ToolRunReasoningDelta:
		return "reasoning delta"
	case ToolRunCallStarted:
		return "tool call started"
	case ToolRunCallFinished:
		return "tool call finished"
	case ToolRunCallResult:
		return "tool result"
	case ToolRunTurnDone:
		return "turn done"
	case ToolRunDone:
		return "run done"
	}
	return fmt.Sprintf("ToolRunEventKind(%d)", int(k))
}

// ToolRunEvent is one event of RunToolsStreaming. Kind says which of its
// fields are set.
type ToolRunEvent struct {
	// Kind is what happened.
	Kind ToolRunEventKind
	// Turn is the turn it happened in, from 1.
	Turn int
	// Text is the new text of a content or reasoning delta.
	Text string
	// Tool is the tool call of a started, finished or result event.
	Tool ToolInvocation
	// Completion is the completion of a turn-done event.
	Completion ChatCompletion
	// Run is the transcript of a run-done event.
	Run ToolRun
}

// RunToolsStreaming is RunTools over streams: each turn's completion is
// streamed, and the loop yields events as they happen. A tool starts as
// soon as the model has finished its arguments. An error is yielded once,
// as the last pair, and carries the transcript so far: a *MaxTurnsError, a
// *ToolError, or a *ToolRunError around any other cause (an *APIError, a
// stream's error, ctx's error: errors.Is and errors.As see it). Only a
// *ParamError, refused before anything was sent, has none.
// Breaking out of the loop closes the stream and cancels the running tools,
// and returns once they have returned.
//
//	for ev, err := range c.Chat.Completions.RunToolsStreaming(ctx, params, tools) {
//		if err != nil { return err }
//		switch ev.Kind {
//		case client.ToolRunContentDelta:
//			fmt.Print(ev.Text)
//		case client.ToolRunCallResult:
//			fmt.Println(ev.Tool.Name, "->", ev.Tool.Result)
//		}
//	}
func (s *ChatCompletionService) RunToolsStreaming(ctx context.Context, params ChatCompletionNewParams, tools []RunnableTool, opts ...Option) iter.Seq2[ToolRunEvent, error] {
	return func(yield func(ToolRunEvent, error) bool) {
		r, err := s.newRun(ctx, params, tools, opts)
		if err != nil {
			yield(ToolRunEvent{}, err)
			return
		}
		defer r.cancel()
		for {
			more, err := s.streamTurn(r, opts, yield)
			if err != nil {
				yield(ToolRunEvent{}, withTranscript(err, r))
			}
			if !more {
				return
			}
		}
	}
}

// partialMessage is the first choice's message of an incomplete completion.
func partialMessage(c ChatCompletion) ChatCompletionMessage {
	if len(c.Choices) == 0 || c.Choices[0].Index != 0 {
		return ChatCompletionMessage{Role: "assistant"}
	}
	return c.Choices[0].Message
}

// withTranscript makes err carry the transcript so far: *MaxTurnsError and
// *ToolError carry it already, anything else is wrapped in a *ToolRunError.
func withTranscript(err error, r *run) error {
	switch err.(type) {
	case *MaxTurnsError, *ToolError:
		return err
	}
	return &ToolRunError{Err: err, Run: r.transcript()}
}

// streamTurn streams one turn and runs its tools. It reports whether the
// run goes on, or the error that ends it; an error is not yielded yet.
func (s *ChatCompletionService) streamTurn(r *run, opts []Option, yield func(ToolRunEvent, error) bool) (more bool, err error) {
	t := r.newTurn()
	defer t.wait() // no tool outlives the turn, however it ends
	stream, err := s.NewStreaming(r.ctx, r.params, opts...)
	if err != nil {
		return false, r.ctxErr(err)
	}
	emit := func(ev ToolRunEvent) bool {
		ev.Turn = t.number
		return yield(ev, nil)
	}
	// The accumulator reports each call started, then finished, once and
	// in the same order; the runner numbers them as it goes, so a call's
	// started and finished events have one Index and ID.
	started := 0
	start := func(id, name string) bool {
		inv := ToolInvocation{Turn: t.number, Index: started, ID: cmp.Or(id, runCallID(t.number, started)), Name: name}
		started++
		return emit(ToolRunEvent{Kind: ToolRunCallStarted, Tool: inv})
	}
	finish := func(call ToolCall) bool {
		return emit(ToolRunEvent{Kind: ToolRunCallFinished, Tool: t.add(call)})
	}
	var acc streaming.ChatCompletionAccumulator
	for chunk, err := range stream.All() { // leaving the loop closes the stream
		if err != nil {
			if len(t.slots) > 0 {
				// Tools already started: their side effects belong in the
				// transcript, so wait for them and record them.
				r.record(t, partialMessage(acc.ChatCompletion()), nil)
			}
			return false, r.ctxErr(err)
		}
		acc.AddChunk(chunk)
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue // the run follows the first choice
			}
			if d := ch.Delta.Reasoning; d != "" && !emit(ToolRunEvent{Kind: ToolRunReasoningDelta, Text: d}) {
				return false, nil
			}
			if d := ch.Delta.Content; d != "" && !emit(ToolRunEvent{Kind: ToolRunContentDelta, Text: d}) {
				return false, nil
			}
		}
		for _, s := range acc.JustStartedToolCalls() {
			if s.ChoiceIndex == 0 && !start(s.ID, s.Name) {
				return false, nil
			}
		}
		for _, f := range acc.JustFinishedToolCalls() {
			if f.ChoiceIndex == 0 && !finish(ToolCall{ID: f.ID, Type: "function", Function: ToolCallFunction{Name: f.Name, Arguments: f.Arguments}}) {
				return false, nil
			}
		}
	}
	comp := acc.ChatCompletion()
	if len(comp.Choices) == 0 {
		return false, fmt.Errorf("client: the stream of turn %d had no choice", t.number)
	}
	r.received(comp)
	msg := comp.Choices[0].Message
	// Calls the accumulator never reported finished: the stream ended
	// without the choice's finish_reason, or they came after it. They are
	// in the completion, after those reported, in the same order.
	for _, call := range msg.ToolCalls[len(t.slots):] {
		if len(t.slots) == started && !start(call.ID, call.Function.Name) {
			return false, nil
		}
		if !finish(call) {
			return false, nil
		}
	}
	if len(t.slots) == 0 {
		if !emit(ToolRunEvent{Kind: ToolRunTurnDone, Completion: comp}) {
			return false, nil
		}
		out, _ := r.finish(msg)
		emit(ToolRunEvent{Kind: ToolRunDone, Run: out})
		return false, nil
	}
	err = r.endTurn(t, msg, func(inv ToolInvocation) bool {
		return emit(ToolRunEvent{Kind: ToolRunCallResult, Tool: inv})
	})
	if err == errStopped {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return emit(ToolRunEvent{Kind: ToolRunTurnDone, Completion: comp}), nil
}
