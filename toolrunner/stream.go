package toolrunner

import (
	"context"
	"fmt"
	"iter"

	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
)

// EventKind says what an Event reports.
type EventKind int

// The events of a streaming run, in the order a turn yields them: reasoning
// and content deltas and tool calls started and finished as they stream,
// then the tools' results in the model's order, then the turn's end; after
// the last turn, the run's end.
const (
	// ContentDelta carries new content text in Text.
	ContentDelta EventKind = iota + 1
	// ReasoningDelta carries new reasoning text in Text.
	ReasoningDelta
	// CallStarted reports a tool call the model began, once its id and
	// name have streamed (at the latest just before it finishes): Call has
	// its Index, ID and Name, as its CallFinished will.
	CallStarted
	// CallFinished reports a tool call whose arguments are complete; its
	// tool starts running. Call has its Arguments too (and already its
	// Result and Err for a call that runs no tool: an unknown tool or a
	// repeated id).
	CallFinished
	// CallResult reports a call's outcome: Call is complete.
	CallResult
	// TurnDone ends a turn: Completion is its completion.
	TurnDone
	// Done ends the run: Transcript is the whole run.
	Done
)

// String names the kind, such as "content delta".
func (k EventKind) String() string {
	switch k {
	case ContentDelta:
		return "content delta"
	case ReasoningDelta:
		return "reasoning delta"
	case CallStarted:
		return "tool call started"
	case CallFinished:
		return "tool call finished"
	case CallResult:
		return "tool result"
	case TurnDone:
		return "turn done"
	case Done:
		return "run done"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one event of Runner.Stream. Kind says which of its fields are
// set.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Turn is the turn it happened in, from 1.
	Turn int
	// Text is the new text of a content or reasoning delta.
	Text string
	// Call is the tool call of a started, finished or result event.
	Call Call
	// Completion is the completion of a turn-done event.
	Completion client.ChatCompletion
	// Transcript is the whole run, in a done event.
	Transcript Transcript
}

// Stream is Run over streams: each turn's completion is streamed, and the
// loop yields events as they happen. A tool starts as soon as the model has
// finished its arguments. An error is yielded once, as the last pair, and
// carries the transcript so far: a *MaxTurnsError, a *ToolError, or a
// *RunError around any other cause (a *client.APIError, a stream's error,
// ctx's error: errors.Is and errors.As see it). Only a *client.ParamError,
// refused before anything was sent, has none. Breaking out of the loop
// closes the stream and cancels the running tools, and returns once they
// have returned.
//
//	for ev, err := range r.Stream(ctx, params) {
//		if err != nil { return err }
//		switch ev.Kind {
//		case toolrunner.ContentDelta:
//			fmt.Print(ev.Text)
//		case toolrunner.CallResult:
//			fmt.Println(ev.Call.Name, "->", ev.Call.Result)
//		}
//	}
func (r *Runner) Stream(ctx context.Context, params client.ChatCompletionNewParams, opts ...client.Option) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		rn, err := r.start(ctx, params, true)
		if err != nil {
			yield(Event{}, err)
			return
		}
		defer rn.cancel()
		stopped := false
		if rn.obs != nil { // watch the yields, to tell a caller who broke out
			inner := yield
			yield = func(ev Event, err error) bool {
				if !inner(ev, err) {
					stopped = true
					return false
				}
				return true
			}
		}
		var runErr error
		returned := false
		if rn.obs != nil {
			defer func() {
				out := rn.transcript()
				rn.end(returned, client.Outcome{Result: &out, Err: runErr, ClosedEarly: stopped && runErr == nil})
			}()
		}
		for more := true; more; {
			more, runErr = r.streamTurn(rn, opts, yield)
		}
		returned = true
	}
}

// streamTurn streams one turn and runs its tools (turn), then yields the
// error that ends the run, if any, with the transcript so far. It reports
// whether the run goes on, and that error.
func (r *Runner) streamTurn(rn *run, opts []client.Option, yield func(Event, error) bool) (more bool, err error) {
	more, err = r.turn(rn, opts, yield)
	if err != nil {
		err = withTranscript(err, rn)
		yield(Event{}, err)
	}
	return more, err
}

// partialMessage is choice 0's message of an incomplete completion.
func partialMessage(c client.ChatCompletion) client.ChatCompletionMessage {
	if msg, ok := choiceZero(c); ok {
		return msg
	}
	return client.ChatCompletionMessage{Role: "assistant"}
}

// withTranscript makes err carry the transcript so far: *MaxTurnsError and
// *ToolError carry it already, anything else is wrapped in a *RunError.
func withTranscript(err error, rn *run) error {
	switch err.(type) {
	case *MaxTurnsError, *ToolError:
		return err
	}
	return &RunError{Err: err, Transcript: rn.transcript()}
}

// turn streams one turn and runs its tools. It reports whether the
// run goes on, or the error that ends it; an error is not yielded yet.
func (r *Runner) turn(rn *run, opts []client.Option, yield func(Event, error) bool) (more bool, err error) {
	t := rn.newTurn()
	defer t.wait() // no tool outlives the turn, however it ends
	stream, err := r.Chat.NewStreaming(rn.ctx, rn.params, opts...)
	if err != nil {
		return false, rn.ctxErr(err)
	}
	emit := func(ev Event) bool {
		ev.Turn = t.number
		return yield(ev, nil)
	}
	// The accumulator reports each call started, then finished, once and
	// in the same order; the runner numbers them as it goes, so a call's
	// started and finished events have one Index and ID.
	started := 0
	var ids []string // the started calls' ids, made for those without one
	start := func(id, name string) bool {
		inv := Call{Turn: t.number, Index: started, ID: t.callID(id, started), Name: name}
		ids = append(ids, inv.ID)
		started++
		return emit(Event{Kind: CallStarted, Call: inv})
	}
	finish := func(call client.ToolCall) bool {
		call.ID = ids[len(t.slots)] // the model's, as it was when the call started, or the one made then
		return emit(Event{Kind: CallFinished, Call: t.add(call)})
	}
	var acc streaming.ChatCompletionAccumulator
	for chunk, err := range stream.All() { // leaving the loop closes the stream
		if err != nil {
			if len(t.slots) > 0 {
				// Tools already started: their side effects belong in the
				// transcript, so wait for them and record them.
				rn.record(t, partialMessage(acc.ChatCompletion()), nil)
			}
			return false, rn.ctxErr(err)
		}
		acc.AddChunk(chunk)
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue // the run follows the first choice
			}
			if d := ch.Delta.Reasoning; d != "" && !emit(Event{Kind: ReasoningDelta, Text: d}) {
				return false, nil
			}
			if d := ch.Delta.Content; d != "" && !emit(Event{Kind: ContentDelta, Text: d}) {
				return false, nil
			}
		}
		for _, s := range acc.JustStartedToolCalls() {
			if s.ChoiceIndex == 0 && !start(s.ID, s.Name) {
				return false, nil
			}
		}
		for _, f := range acc.JustFinishedToolCalls() {
			if f.ChoiceIndex == 0 && !finish(client.ToolCall{ID: f.ID, Type: "function", Function: client.ToolCallFunction{Name: f.Name, Arguments: f.Arguments}}) {
				return false, nil
			}
		}
	}
	comp := acc.ChatCompletion()
	rn.received(comp)
	msg, ok := choiceZero(comp)
	if !ok { // then no call was added: they are choice 0's only
		return false, noChoice(t.number)
	}
	// Calls the accumulator never reported finished: the stream ended
	// without the choice's finish_reason, or they came after it. They are
	// in choice 0's message, after those reported, in the same order.
	for _, call := range msg.ToolCalls[min(len(t.slots), len(msg.ToolCalls)):] {
		if len(t.slots) == started && !start(call.ID, call.Function.Name) {
			return false, nil
		}
		if !finish(call) {
			return false, nil
		}
	}
	if len(t.slots) == 0 {
		if !emit(Event{Kind: TurnDone, Completion: comp}) {
			return false, nil
		}
		out, _ := rn.finish(msg)
		emit(Event{Kind: Done, Transcript: out})
		return false, nil
	}
	err = rn.endTurn(t, msg, func(inv Call) bool {
		return emit(Event{Kind: CallResult, Call: inv})
	})
	if err == errStopped {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return emit(Event{Kind: TurnDone, Completion: comp}), nil
}
