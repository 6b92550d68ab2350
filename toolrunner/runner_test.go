package toolrunner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/streaming"
	"github.com/cerebras-go/cerebras/toolrunner"
)

type cityArgs struct {
	City string `json:"city"`
}

type runWeather struct {
	City  string  `json:"city"`
	TempC float64 `json:"temp_c"`
}

func runParams(prompt string) client.ChatCompletionNewParams {
	return client.ChatCompletionNewParams{Model: client.ModelGPTOSS120B, Messages: []client.ChatMessage{client.UserMessage(prompt)}}
}

func mustTool[A, R any](t *testing.T, name string, fn func(context.Context, A) (R, error)) toolrunner.Tool {
	t.Helper()
	tool, err := toolrunner.NewTool(name, "a test tool", fn)
	if err != nil {
		t.Fatal(err)
	}
	return tool
}

func weatherTool(t *testing.T) toolrunner.Tool {
	return mustTool(t, "get_weather", func(_ context.Context, a cityArgs) (runWeather, error) {
		return runWeather{City: a.City, TempC: 21}, nil
	})
}

// toolCall is a tool call of a scripted completion.
func toolCall(id, name, arguments string) client.ToolCall {
	return client.ToolCall{ID: id, Type: "function", Function: client.ToolCallFunction{Name: name, Arguments: arguments}}
}

// scriptedCompletion is a literal answer of the fake: a completion that
// calls the given tools, or answers text when there are none.
func scriptedCompletion(t *testing.T, text string, usage client.Usage, calls ...client.ToolCall) cerebrastest.Response {
	t.Helper()
	for i := range calls {
		calls[i].Index = client.Int(i)
	}
	msg := client.ChatCompletionMessage{Role: "assistant", Content: text, ToolCalls: calls}
	finish := client.FinishReasonStop
	if len(calls) > 0 {
		finish = client.FinishReasonToolCalls
	}
	b, err := json.Marshal(client.ChatCompletion{ID: "chatcmpl-scripted", Object: "chat.completion", Created: 1, Model: client.ModelGPTOSS120B,
		Choices: []client.ChatCompletionChoice{{Index: 0, Message: msg, FinishReason: finish}}, Usage: &usage})
	if err != nil {
		t.Fatal(err)
	}
	return cerebrastest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: string(b)}
}

// scriptedStream is a literal streamed answer: the tool calls in two
// fragments each (name, then arguments), a finish chunk and a usage chunk.
func scriptedStream(t *testing.T, usage client.Usage, calls ...client.ToolCall) cerebrastest.Response {
	t.Helper()
	var fragments [][]client.ToolCall
	for i, c := range calls {
		fragments = append(fragments, []client.ToolCall{{Index: client.Int(i), ID: c.ID, Type: "function", Function: client.ToolCallFunction{Name: c.Function.Name}}},
			[]client.ToolCall{{Index: client.Int(i), Function: client.ToolCallFunction{Arguments: c.Function.Arguments}}})
	}
	return fragmentStream(t, usage, fragments...)
}

// fragmentStream is a literal streamed answer whose chunks carry the given
// tool-call fragments, one chunk each, then a finish chunk and a usage chunk.
func fragmentStream(t *testing.T, usage client.Usage, fragments ...[]client.ToolCall) cerebrastest.Response {
	t.Helper()
	var chunks []client.ChatCompletionChunk
	add := func(d client.ChatCompletionChunkDelta, finish client.FinishReason) {
		chunks = append(chunks, client.ChatCompletionChunk{ID: "chatcmpl-scripted", Object: "chat.completion.chunk", Created: 1, Model: client.ModelGPTOSS120B,
			Choices: []client.ChatCompletionChunkChoice{{Index: 0, Delta: d, FinishReason: finish}}})
	}
	add(client.ChatCompletionChunkDelta{Role: "assistant"}, "")
	for _, f := range fragments {
		add(client.ChatCompletionChunkDelta{ToolCalls: f}, "")
	}
	add(client.ChatCompletionChunkDelta{}, client.FinishReasonToolCalls)
	chunks = append(chunks, client.ChatCompletionChunk{ID: "chatcmpl-scripted", Object: "chat.completion.chunk", Created: 1, Model: client.ModelGPTOSS120B,
		Choices: []client.ChatCompletionChunkChoice{}, Usage: &usage})
	return sseResponse(t, chunks)
}

// sseResponse is a literal streamed answer of the chunks, then [DONE].
func sseResponse(t *testing.T, chunks []client.ChatCompletionChunk) cerebrastest.Response {
	t.Helper()
	var b strings.Builder
	for _, c := range chunks {
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "data: %s\n\n", data)
	}
	b.WriteString("data: [DONE]\n\n")
	return cerebrastest.Response{Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: b.String()}
}

// chatRequest decodes the body of the n-th chat request the fake received
// into v.
func chatRequest(t *testing.T, fake *cerebrastest.Server, n int, v any) {
	t.Helper()
	var chats []cerebrastest.Request
	for _, r := range fake.Requests() {
		if r.Path == "/v1/chat/completions" {
			chats = append(chats, r)
		}
	}
	if n >= len(chats) {
		t.Fatalf("the fake received %d chat requests, want at least %d", len(chats), n+1)
	}
	if err := json.Unmarshal(chats[n].Body, v); err != nil {
		t.Fatal(err)
	}
}

// sent decodes the messages of the n-th chat request the fake received.
func sent(t *testing.T, fake *cerebrastest.Server, n int) []client.ChatMessage {
	t.Helper()
	var p client.ChatCompletionNewParams
	chatRequest(t, fake, n, &p)
	return p.Messages
}

// answers returns the tool messages after the last assistant message, as
// "id=content", and the ids of that assistant message's tool calls.
func answers(t *testing.T, msgs []client.ChatMessage) (asked []string, answered []string) {
	t.Helper()
	last := -1
	for i, m := range msgs {
		if client.MessageRole(m) == "assistant" {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("no assistant message was sent")
	}
	a, err := msgs[last].AsAssistantMessageParam()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range a.ToolCalls {
		asked = append(asked, c.ID)
	}
	for _, m := range msgs[last+1:] {
		tm, err := m.AsToolMessageParam()
		if err != nil || client.MessageRole(m) != "tool" {
			t.Fatalf("a %s message follows the assistant's tool calls", client.MessageRole(m))
		}
		answered = append(answered, tm.ToolCallID+"="+client.MessageText(m))
	}
	return asked, answered
}

func TestRunToolsWithTheFakeModel(t *testing.T) {
	fake, c := newFake(t)
	params := runParams("What's the weather in Paris?")
	run, err := runTools(c, context.Background(), params, []toolrunner.Tool{weatherTool(t)})
	if err != nil {
		t.Fatal(err)
	}
	const result = `{"city":"Paris","temp_c":21}` // a struct result is JSON-encoded
	if got, want := run.Content(), "According to the tool: "+result; got != want {
		t.Errorf("Content() = %q, want %q", got, want)
	}
	if run.Turns != 2 || len(run.Calls) != 1 {
		t.Fatalf("Turns = %d, %d tool calls; want 2 and 1", run.Turns, len(run.Calls))
	}
	inv := run.Calls[0]
	if inv.Turn != 1 || inv.Index != 0 || inv.Name != "get_weather" || inv.Arguments != `{"city":"Paris"}` || inv.Result != result || inv.Err != nil || inv.ID == "" {
		t.Errorf("tool call = %+v", inv)
	}
	// user, assistant (tool call), tool, assistant (answer)
	roles := []string{}
	for _, m := range run.Messages {
		roles = append(roles, client.MessageRole(m))
	}
	if got := strings.Join(roles, ","); got != "user,assistant,tool,assistant" {
		t.Errorf("transcript roles = %s", got)
	}
	if client.MessageText(run.Messages[3]) != run.Content() {
		t.Errorf("the transcript ends with %q, not the answer", client.MessageText(run.Messages[3]))
	}
	asked, answered := answers(t, sent(t, fake, 1))
	if len(asked) != 1 || asked[0] != inv.ID || len(answered) != 1 || answered[0] != inv.ID+"="+result {
		t.Errorf("second request: asked %v, answered %v", asked, answered)
	}
	if len(params.Messages) != 1 || params.Tools != nil {
		t.Error("RunTools changed the caller's params")
	}
}

// TestRunToolsRunsParallelCallsConcurrently proves concurrency by
// synchronisation: each tool waits for the other to start, which only
// concurrent calls can do (the ctx deadline is the failure path). The second
// call finishes first, and the results still go back in the model's order.
func TestRunToolsRunsParallelCallsConcurrently(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprint("streamed=", streamed), func(t *testing.T) {
			fake, c := newFake(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			aStarted, bStarted, bDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
			a := mustTool(t, "a", func(ctx context.Context, _ struct{}) (string, error) {
				close(aStarted)
				for _, ch := range []chan struct{}{bStarted, bDone} {
					select {
					case <-ch:
					case <-ctx.Done():
						return "", errors.New("a: b never ran alongside")
					}
				}
				return "a ok", nil
			})
			b := mustTool(t, "b", func(ctx context.Context, _ struct{}) (string, error) {
				defer close(bDone)
				close(bStarted)
				select {
				case <-aStarted:
					return "b ok", nil
				case <-ctx.Done():
					return "", errors.New("b: a never ran alongside")
				}
			})
			calls := []client.ToolCall{toolCall("c1", "a", "{}"), toolCall("c2", "b", "{}")}
			usage := client.Usage{PromptTokens: 1, CompletionTokens: 1, TotalTokens: 2}
			var run toolrunner.Transcript
			var err error
			if streamed {
				fake.Enqueue(scriptedStream(t, usage, calls...))
				var events []toolrunner.Event
				run, events, err = collectEvents(runToolsStreaming(c, ctx, runParams("Run a and b."), []toolrunner.Tool{a, b}))
				var order []string
				for _, ev := range events {
					if ev.Kind != toolrunner.ContentDelta && ev.Kind != toolrunner.ReasoningDelta {
						order = append(order, fmt.Sprintf("%d:%s:%s", ev.Turn, ev.Kind, ev.Call.ID))
					}
				}
				want := "1:tool call started:c1 1:tool call started:c2 1:tool call finished:c1 1:tool call finished:c2 " +
					"1:tool result:c1 1:tool result:c2 1:turn done: 2:turn done: 2:run done:"
				if got := strings.Join(order, " "); got != want {
					t.Errorf("events:\n got %s\nwant %s", got, want)
				}
			} else {
				fake.Enqueue(scriptedCompletion(t, "", usage, calls...))
				run, err = runTools(c, ctx, runParams("Run a and b."), []toolrunner.Tool{a, b})
			}
			if err != nil {
				t.Fatal(err)
			}
			asked, answered := answers(t, sent(t, fake, 1))
			if fmt.Sprint(asked) != "[c1 c2]" || fmt.Sprint(answered) != "[c1=a ok c2=b ok]" {
				t.Errorf("asked %v, answered %v", asked, answered)
			}
			if len(run.Calls) != 2 || run.Calls[0].Name != "a" || run.Calls[1].Name != "b" {
				t.Errorf("tool calls = %+v", run.Calls)
			}
		})
	}
}

// collectRun runs a streaming run to its end and returns its transcript.
func collectRun(events iter.Seq2[toolrunner.Event, error]) (toolrunner.Transcript, error) {
	run, _, err := collectEvents(events)
	return run, err
}

// collectEvents runs a streaming run to its end and returns its transcript
// and its events.
func collectEvents(events iter.Seq2[toolrunner.Event, error]) (toolrunner.Transcript, []toolrunner.Event, error) {
	var all []toolrunner.Event
	for ev, err := range events {
		if err != nil {
			return toolrunner.Transcript{}, all, err
		}
		all = append(all, ev)
		if ev.Kind == toolrunner.Done {
			return ev.Transcript, all, nil
		}
	}
	return toolrunner.Transcript{}, all, errors.New("the run ended without ToolRunDone")
}

// madeID matches an id the runner made for a call without one.
var madeID = regexp.MustCompile(`\b(call_run_\d+_\d+_)[0-9a-f]{16}\b`)

// madeIDs returns s with the random part of the ids the runner made
// replaced by "*": call_run_1_2_*.
func madeIDs(s string) string { return madeID.ReplaceAllString(s, "${1}*") }

// TestRunToolsAnswersEveryCallOnce sends repeated ids, a call without an id
// and failing calls: each id of the replayed assistant message is answered
// exactly once, in order, and nothing else is.
func TestRunToolsAnswersEveryCallOnce(t *testing.T) {
	fake, c := newFake(t)
	ran := 0
	echo := mustTool(t, "echo", func(_ context.Context, a cityArgs) (string, error) {
		ran++ // the calls run concurrently only with WithToolConcurrency > 1
		if a.City == "" {
			return "", errors.New("no city")
		}
		return a.City, nil
	})
	fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, toolCall("c1", "echo", `{"city":"Oslo"}`), toolCall("c1", "echo", `{"city":"Rome"}`),
		toolCall("", "echo", `{"city":"Lima"}`), toolCall("c2", "nope", `{}`), toolCall("c3", "echo", `{"city":`), toolCall("c4", "echo", `{"city":""}`)))
	run, err := runTools(c, context.Background(), runParams("Echo."), []toolrunner.Tool{echo}, concurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	asked, answered := answers(t, sent(t, fake, 1))
	if got, want := madeIDs(fmt.Sprint(asked)), "[c1 call_run_1_2_* c2 c3 c4]"; got != want {
		t.Errorf("replayed tool call ids = %s, want %s", got, want)
	}
	// One numbering: a replayed call has its ToolInvocation's Index (the
	// repeated id, not replayed, leaves a gap).
	for _, msgs := range [][]client.ChatMessage{sent(t, fake, 1), run.Messages} {
		a, err := msgs[1].AsAssistantMessageParam()
		if err != nil {
			t.Fatal(err)
		}
		var indexes []int
		for _, call := range a.ToolCalls {
			indexes = append(indexes, *call.Index)
		}
		if got := fmt.Sprint(indexes); got != "[0 2 3 4 5]" {
			t.Errorf("the assistant message's tool call indexes are %s, want [0 2 3 4 5]", got)
		}
	}
	want := []string{"c1=Oslo", "call_run_1_2_*=Lima", `c2=error: there is no tool named "nope"; the tools are: echo`,
		"c3=error: the arguments do not match", "c4=error: no city"}
	if len(answered) != len(want) {
		t.Fatalf("answers = %q, want %d", answered, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(madeIDs(answered[i]), want[i]) {
			t.Errorf("answer %d = %q, want %q…", i, answered[i], want[i])
		}
	}
	if ran != 3 {
		t.Errorf("the tool ran %d times, want 3 (not the repeated id, not the bad arguments)", ran)
	}
	wantErrs := []error{nil, toolrunner.ErrDuplicateCall, nil, toolrunner.ErrUnknownTool, toolrunner.ErrArguments}
	if len(run.Calls) != len(wantErrs)+1 {
		t.Fatalf("%d tool calls in the transcript, want %d", len(run.Calls), len(wantErrs)+1)
	}
	for i, inv := range run.Calls {
		ok := false
		switch {
		case i == len(wantErrs):
			ok = inv.Err != nil && inv.Err.Error() == "no city"
		case wantErrs[i] == nil:
			ok = inv.Err == nil
		default:
			ok = errors.Is(inv.Err, wantErrs[i])
		}
		if !ok {
			t.Errorf("tool call %d: Err = %v", i, inv.Err)
		}
		if inv.Index != i || inv.Turn != 1 {
			t.Errorf("tool call %d: Index %d, Turn %d", i, inv.Index, inv.Turn)
		}
	}
}

// TestRunToolsBadModelOutputIsData: each mistake becomes a tool message the
// model reads, and the run goes on to the model's answer.
func TestRunToolsBadModelOutputIsData(t *testing.T) {
	errBroken := errors.New("the backend is down")
	tools := func(t *testing.T) []toolrunner.Tool {
		return []toolrunner.Tool{
			weatherTool(t),
			mustTool(t, "fail", func(context.Context, struct{}) (string, error) { return "", errBroken }),
			mustTool(t, "explode", func(context.Context, struct{}) (string, error) { panic("boom") }),
		}
	}
	tests := []struct {
		name    string
		call    client.ToolCall
		wantErr func(error) bool
		result  string
	}{
		{"unknown tool", toolCall("c1", "get_time", "{}"), func(err error) bool { return errors.Is(err, toolrunner.ErrUnknownTool) },
			`error: there is no tool named "get_time"; the tools are: get_weather, fail, explode`},
		{"arguments of the wrong type", toolCall("c1", "get_weather", `{"city":42}`), func(err error) bool { return errors.Is(err, toolrunner.ErrArguments) },
			"error: the arguments do not match the tool's parameters: json: cannot unmarshal number into Go struct field cityArgs.city of type string"},
		{"arguments that are not JSON", toolCall("c1", "get_weather", `{"city":`), func(err error) bool { return errors.Is(err, toolrunner.ErrArguments) },
			"error: the arguments do not match the tool's parameters: unexpected end of JSON input"},
		{"tool error", toolCall("c1", "fail", "{}"), func(err error) bool { return errors.Is(err, errBroken) }, "error: the backend is down"},
		{"tool panic", toolCall("c1", "explode", "{}"), func(err error) bool {
			var p *toolrunner.PanicError
			return errors.As(err, &p) && p.Value == "boom" && p.Tool == "explode" && strings.Contains(p.Stack, "runner_test.go")
		}, "error: the tool failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t)
			fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, tt.call))
			run, err := runTools(c, context.Background(), runParams("Hi"), tools(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Calls) != 1 || !tt.wantErr(run.Calls[0].Err) || run.Calls[0].Result != tt.result {
				t.Fatalf("tool calls = %+v", run.Calls)
			}
			_, answered := answers(t, sent(t, fake, 1))
			if len(answered) != 1 || answered[0] != "c1="+tt.result {
				t.Errorf("answered %q", answered)
			}
			if want := "According to the tool: " + tt.result; run.Content() != want {
				t.Errorf("Content() = %q, want %q", run.Content(), want)
			}
		})
	}
}

// TestRunToolsToolErrorsAbort: with the option, a failing tool ends the run
// with a *ToolError, after the turn's other calls were cancelled, and no
// further request is sent.
func TestRunToolsToolErrorsAbort(t *testing.T) {
	errBroken := errors.New("the backend is down")
	for _, failing := range []string{"fail", "explode"} {
		t.Run(failing, func(t *testing.T) {
			fake, c := newFake(t)
			failed := make(chan struct{})
			tools := []toolrunner.Tool{
				mustTool(t, "fail", func(context.Context, struct{}) (string, error) { defer close(failed); return "", errBroken }),
				mustTool(t, "explode", func(context.Context, struct{}) (string, error) { defer close(failed); panic("boom") }),
				mustTool(t, "wait", func(ctx context.Context, _ struct{}) (string, error) {
					<-failed
					<-ctx.Done() // the abort cancels the turn's other calls
					return "", ctx.Err()
				}),
			}
			fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, toolCall("c1", "wait", "{}"), toolCall("c2", failing, "{}")))
			run, err := runTools(c, context.Background(), runParams("Hi"), tools, abortOnToolError)
			var te *toolrunner.ToolError
			if !errors.As(err, &te) || te.Call.ID != "c2" || te.Call.Name != failing {
				t.Fatalf("err = %v, want a *ToolError for c2", err)
			}
			if failing == "fail" && !errors.Is(err, errBroken) {
				t.Errorf("err = %v does not wrap the tool's error", err)
			}
			var p *toolrunner.PanicError
			if failing == "explode" && !errors.As(err, &p) {
				t.Errorf("err = %v does not wrap the *ToolPanicError", err)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests sent, want 1", n)
			}
			if len(te.Transcript.Calls) != 2 || !errors.Is(te.Transcript.Calls[0].Err, context.Canceled) || len(te.Transcript.Messages) != 4 {
				t.Errorf("transcript: %d messages, tool calls %+v", len(te.Transcript.Messages), te.Transcript.Calls)
			}
			if len(run.Messages) != len(te.Transcript.Messages) {
				t.Error("the returned ToolRun is not the error's transcript")
			}
		})
	}
}

// TestRunToolsMaxTurns: a model that calls a tool on every turn; the run
// stops after WithMaxTurns completions.
func TestRunToolsMaxTurns(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprint("streamed=", streamed), func(t *testing.T) {
			fake, c := newFake(t)
			params := runParams("What's the weather in Paris?")
			for i := range 3 {
				call := toolCall(fmt.Sprint("c", i), "get_weather", `{"city":"Paris"}`)
				if streamed {
					fake.Enqueue(scriptedStream(t, client.Usage{}, call))
				} else {
					fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, call))
				}
			}
			var err error
			if streamed {
				_, err = collectRun(runToolsStreaming(c, context.Background(), params, []toolrunner.Tool{weatherTool(t)}, maxTurns(3)))
			} else {
				_, err = runTools(c, context.Background(), params, []toolrunner.Tool{weatherTool(t)}, maxTurns(3))
			}
			var mt *toolrunner.MaxTurnsError
			if !errors.As(err, &mt) {
				t.Fatalf("err = %v, want a *MaxTurnsError", err)
			}
			if mt.MaxTurns != 3 || mt.Transcript.Turns != 3 || len(mt.Transcript.Calls) != 3 || len(mt.Transcript.Messages) != 7 {
				t.Errorf("MaxTurns %d, transcript: %d turns, %d tool calls, %d messages", mt.MaxTurns, mt.Transcript.Turns, len(mt.Transcript.Calls), len(mt.Transcript.Messages))
			}
			if n := len(fake.Requests()); n != 3 {
				t.Errorf("%d requests sent, want 3", n)
			}
			if client.MessageRole(mt.Transcript.Messages[6]) != "tool" {
				t.Error("the transcript does not end with the last call's answer")
			}
		})
	}
}

// blockingTool returns a tool that blocks until its ctx is done, and
// channels closed when it starts and when it has returned.
func blockingTool(t *testing.T) (tool toolrunner.Tool, started, returned chan struct{}) {
	started, returned = make(chan struct{}), make(chan struct{})
	tool = mustTool(t, "block", func(ctx context.Context, _ struct{}) (string, error) {
		defer close(returned)
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	})
	return tool, started, returned
}

// closedOrFail fails the test unless ch is closed now.
func closedOrFail(t *testing.T, ch chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	default:
		t.Fatal(msg)
	}
}

// TestRunToolsCancelMidTool cancels ctx while a tool blocks on it: the run
// returns ctx's error once the tool has returned, and leaves no goroutine.
func TestRunToolsCancelMidTool(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprint("streamed=", streamed), func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			fake, c := newFake(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			block, started, returned := blockingTool(t)
			go func() { <-started; cancel() }()
			var err error
			if streamed {
				fake.Enqueue(scriptedStream(t, client.Usage{}, toolCall("c1", "block", "{}")))
				_, err = collectRun(runToolsStreaming(c, ctx, runParams("Hi"), []toolrunner.Tool{block}))
			} else {
				fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, toolCall("c1", "block", "{}")))
				_, err = runTools(c, ctx, runParams("Hi"), []toolrunner.Tool{block})
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			closedOrFail(t, returned, "the run returned before its tool")
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests sent, want 1", n)
			}
			_ = c.Close()
			fake.Close()
			goleak.VerifyNone(t, ignore)
		})
	}
}

// TestRunToolsStreamingEventOrder runs the fake's model, which reasons,
// calls the tool in fragments, then answers from its result.
func TestRunToolsStreamingEventOrder(t *testing.T) {
	_, c := newFake(t)
	var kinds []string
	var content, reasoning strings.Builder
	var turnUsage int
	var run toolrunner.Transcript
	for ev, err := range runToolsStreaming(c, context.Background(), runParams("What's the weather in Paris?"), []toolrunner.Tool{weatherTool(t)}) {
		if err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("%d:%s", ev.Turn, ev.Kind)
		if len(kinds) == 0 || kinds[len(kinds)-1] != k { // one entry per run of deltas
			kinds = append(kinds, k)
		}
		switch ev.Kind {
		case toolrunner.ContentDelta:
			content.WriteString(ev.Text)
		case toolrunner.ReasoningDelta:
			reasoning.WriteString(ev.Text)
		case toolrunner.CallStarted:
			if ev.Call.Name != "get_weather" || ev.Call.ID == "" || ev.Call.Arguments != "" {
				t.Errorf("started: %+v", ev.Call)
			}
		case toolrunner.CallFinished:
			if ev.Call.Arguments != `{"city":"Paris"}` || ev.Call.Result != "" {
				t.Errorf("finished: %+v", ev.Call)
			}
		case toolrunner.CallResult:
			if ev.Call.Result != `{"city":"Paris","temp_c":21}` || ev.Call.Err != nil {
				t.Errorf("result: %+v", ev.Call)
			}
		case toolrunner.TurnDone:
			turnUsage += ev.Completion.Usage.TotalTokens
		case toolrunner.Done:
			run = ev.Transcript
		}
	}
	want := "1:reasoning delta 1:tool call started 1:tool call finished 1:tool result 1:turn done " +
		"2:reasoning delta 2:content delta 2:turn done 2:run done"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	if got, want := content.String(), `According to the tool: {"city":"Paris","temp_c":21}`; got != want || run.Content() != want {
		t.Errorf("content %q, Content() %q, want %q", got, run.Content(), want)
	}
	if !strings.Contains(reasoning.String(), "I should call get_weather.") {
		t.Errorf("reasoning %q", reasoning.String())
	}
	if run.Turns != 2 || len(run.Calls) != 1 || len(run.Messages) != 4 || turnUsage == 0 || run.Usage.TotalTokens != turnUsage {
		t.Errorf("run: %d turns, %d calls, %d messages, usage %d (turns: %d)", run.Turns, len(run.Calls), len(run.Messages), run.Usage.TotalTokens, turnUsage)
	}
}

// TestRunToolsStreamingBreak leaves the loop while a tool runs: the tool is
// cancelled and has returned when the loop ends; the stream is closed.
func TestRunToolsStreamingBreak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	fake, c := newFake(t)
	block, started, returned := blockingTool(t)
	fake.Enqueue(scriptedStream(t, client.Usage{}, toolCall("c1", "block", "{}")))
	events := 0
	for ev, err := range runToolsStreaming(c, context.Background(), runParams("Hi"), []toolrunner.Tool{block}) {
		if err != nil {
			t.Fatal(err)
		}
		events++
		if ev.Kind == toolrunner.CallFinished {
			<-started // the tool starts once its arguments are complete
			break
		}
	}
	closedOrFail(t, returned, "the loop ended before the tool returned")
	if events != 2 { // started, finished
		t.Errorf("%d events, want 2", events)
	}
	_ = c.Close()
	fake.Close()
	goleak.VerifyNone(t, ignore)
}

func TestRunToolsSumsUsage(t *testing.T) {
	fake, c := newFake(t)
	u1 := client.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15,
		PromptTokensDetails: client.PromptTokensDetails{CachedTokens: 4}, CompletionTokensDetails: client.CompletionTokensDetails{ReasoningTokens: 3}}
	u2 := client.Usage{PromptTokens: 30, CompletionTokens: 7, TotalTokens: 37,
		PromptTokensDetails: client.PromptTokensDetails{CachedTokens: 8}, CompletionTokensDetails: client.CompletionTokensDetails{ReasoningTokens: 2}}
	fake.Enqueue(scriptedCompletion(t, "", u1, toolCall("c1", "get_weather", `{"city":"Oslo"}`)), scriptedCompletion(t, "Cold.", u2))
	run, err := runTools(c, context.Background(), runParams("Hi"), []toolrunner.Tool{weatherTool(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := client.Usage{PromptTokens: 40, CompletionTokens: 12, TotalTokens: 52,
		PromptTokensDetails: client.PromptTokensDetails{CachedTokens: 12}, CompletionTokensDetails: client.CompletionTokensDetails{ReasoningTokens: 5}}
	if run.Usage != want {
		t.Errorf("usage = %+v, want %+v", run.Usage, want)
	}
	if run.Content() != "Cold." || run.Completion.Usage.TotalTokens != 37 {
		t.Errorf("final completion: %q, usage %+v", run.Content(), run.Completion.Usage)
	}
}

func TestRunToolsRefusesBadSetup(t *testing.T) {
	_, c := newFake(t)
	w := weatherTool(t)
	tests := []struct {
		name  string
		tools []toolrunner.Tool
		opts  []setting
		param string
	}{
		{"zero tool", []toolrunner.Tool{{}}, nil, "Runner.Tools[0]"},
		{"two tools with one name", []toolrunner.Tool{w, w}, nil, "Runner.Tools[1]"},
		{"negative turns", []toolrunner.Tool{w}, []setting{maxTurns(-1)}, "Runner.MaxTurns"},
		{"negative concurrency", []toolrunner.Tool{w}, []setting{concurrency(-1)}, "Runner.Concurrency"},
		{"no chat", []toolrunner.Tool{w}, []setting{func(r *toolrunner.Runner) { r.Chat = nil }}, "Runner.Chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runTools(c, context.Background(), runParams("Hi"), tt.tools, tt.opts...)
			var pe *client.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Errorf("err = %v, want a *ParamError for %s", err, tt.param)
			}
			_, err = collectRun(runToolsStreaming(c, context.Background(), runParams("Hi"), tt.tools, tt.opts...))
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Errorf("streaming: err = %v, want a *ParamError for %s", err, tt.param)
			}
		})
	}
	if _, err := toolrunner.NewTool[struct{}, string]("f", "", nil); !errors.Is(err, client.ErrInvalidInput) {
		t.Errorf("NewTool with a nil function: %v", err)
	}
	if _, err := toolrunner.NewTool("f", "", func(context.Context, int) (string, error) { return "", nil }); !errors.Is(err, client.ErrInvalidInput) {
		t.Errorf("NewTool with non-struct arguments: %v", err)
	}
}

// TestRunToolsConcurrencyOneRunsInModelOrder: with concurrency(1)
// the calls of a turn run one after the other, in the order the model made
// them (each used to race for the slot in its own goroutine).
func TestRunToolsConcurrencyOneRunsInModelOrder(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprint("streamed=", streamed), func(t *testing.T) {
			fake, c := newFake(t)
			var mu sync.Mutex
			var order []string
			running := 0
			rec := mustTool(t, "rec", func(_ context.Context, a cityArgs) (string, error) {
				mu.Lock()
				running++
				order = append(order, a.City)
				overlap := running > 1
				mu.Unlock()
				runtime.Gosched() // give a racing call the chance to start
				mu.Lock()
				running--
				mu.Unlock()
				if overlap {
					return "", errors.New("two calls ran at once")
				}
				return a.City, nil
			})
			var calls []client.ToolCall
			var want []string
			for i := range 8 {
				calls = append(calls, toolCall(fmt.Sprint("c", i), "rec", fmt.Sprintf(`{"city":"%d"}`, i)))
				want = append(want, fmt.Sprint(i))
			}
			var run toolrunner.Transcript
			var err error
			if streamed {
				fake.Enqueue(scriptedStream(t, client.Usage{}, calls...))
				run, err = collectRun(runToolsStreaming(c, context.Background(), runParams("Hi"), []toolrunner.Tool{rec}, concurrency(1)))
			} else {
				fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, calls...))
				run, err = runTools(c, context.Background(), runParams("Hi"), []toolrunner.Tool{rec}, concurrency(1))
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(order, " "); got != strings.Join(want, " ") {
				t.Errorf("the tools ran in the order %s, want %s", got, strings.Join(want, " "))
			}
			for _, inv := range run.Calls {
				if inv.Err != nil {
					t.Errorf("call %s: %v", inv.ID, inv.Err)
				}
			}
		})
	}
}

// TestRunToolsStreamingStartedMatchesFinished streams fragment shapes real
// servers send: the name before the id, the id in a later fragment, a
// repeated id, no id at all. Each call is reported started once, before it
// finishes, and with the Index and ID its finished event has.
func TestRunToolsStreamingStartedMatchesFinished(t *testing.T) {
	fake, c := newFake(t)
	fn := func(name, args string) client.ToolCallFunction {
		return client.ToolCallFunction{Name: name, Arguments: args}
	}
	fake.Enqueue(fragmentStream(t, client.Usage{},
		[]client.ToolCall{{Index: client.Int(0), Function: fn("get_weather", "")}},                            // index and name first
		[]client.ToolCall{{Index: client.Int(0), ID: "a"}},                                                    // the id later
		[]client.ToolCall{{Index: client.Int(0), Function: fn("", `{"city":"Oslo"}`)}},                        // then the arguments
		[]client.ToolCall{{Index: client.Int(1), ID: "a", Function: fn("get_weather", `{"city":"Rome"}`)}},    // a repeated id
		[]client.ToolCall{{Index: client.Int(2), Function: fn("get_weather", `{"city":"Lima"}`)}},             // no id at all
		[]client.ToolCall{{Index: client.Int(3), ID: "d", Type: "function", Function: fn("get_weather", "")}}, // the usual shape
		[]client.ToolCall{{Index: client.Int(3), Function: fn("", `{"city":"Kyiv"}`)}},
	))
	_, events, err := collectEvents(runToolsStreaming(c, context.Background(), runParams("Hi"), []toolrunner.Tool{weatherTool(t)}))
	if err != nil {
		t.Fatal(err)
	}
	var started, finished []string
	for _, ev := range events {
		if ev.Turn != 1 {
			continue
		}
		id := fmt.Sprintf("%d:%s:%s", ev.Call.Index, ev.Call.ID, ev.Call.Name)
		switch ev.Kind {
		case toolrunner.CallStarted:
			if len(finished) > 0 {
				t.Errorf("%s started after a call finished", id)
			}
			started = append(started, id)
		case toolrunner.CallFinished:
			finished = append(finished, id)
		}
	}
	want := "[0:a:get_weather 1:a:get_weather 2:call_run_1_2_*:get_weather 3:d:get_weather]"
	if madeIDs(fmt.Sprint(started)) != want || fmt.Sprint(finished) != fmt.Sprint(started) {
		t.Errorf("started  %v\nfinished %v\nwant     %s", started, finished, want)
	}
}

// TestRunToolsStreamingErrorCarriesTranscript: an API error, or one in the
// stream, after a turn whose tool ran, ends the run with a *ToolRunError
// that holds the transcript so far (the tool's side effects are in it) and
// unwraps to the cause, as RunTools returns its ToolRun with every error.
func TestRunToolsStreamingErrorCarriesTranscript(t *testing.T) {
	for name, failure := range map[string]cerebrastest.Response{
		"API error":       cerebrastest.ErrorResponse(http.StatusBadRequest, "invalid_request_error", "bad", "no"),
		"in-stream error": {Fault: cerebrastest.InBandError, After: 1, Status: http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c := newFake(t)
			fake.Enqueue(scriptedStream(t, client.Usage{TotalTokens: 5}, toolCall("c1", "get_weather", `{"city":"Oslo"}`)), failure)
			_, events, err := collectEvents(runToolsStreaming(c, context.Background(), runParams("Hi"), []toolrunner.Tool{weatherTool(t)}))
			var re *toolrunner.RunError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want a *ToolRunError", err, err)
			}
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || re.Err != error(apiErr) || err.Error() != apiErr.Error() {
				t.Errorf("err = %v does not unwrap to the 400", err)
			}
			run := re.Transcript
			if run.Turns != 1 || len(run.Calls) != 1 || run.Calls[0].Result != `{"city":"Oslo","temp_c":21}` ||
				len(run.Messages) != 3 || client.MessageRole(run.Messages[2]) != "tool" || run.Usage.TotalTokens != 5 {
				t.Errorf("transcript: %d turns, calls %+v, %d messages, usage %d", run.Turns, run.Calls, len(run.Messages), run.Usage.TotalTokens)
			}
			if len(events) == 0 || events[len(events)-1].Kind != toolrunner.TurnDone {
				t.Errorf("the events before the error do not end with turn 1's end")
			}
		})
	}
}

// TestRunToolsStreamingErrorKeepsStartedTools: a stream that breaks after
// its tool calls finished (their tools started) ends the run with a
// *ToolRunError whose transcript has those calls, run and answered.
func TestRunToolsStreamingErrorKeepsStartedTools(t *testing.T) {
	fake, c := newFake(t)
	ran := make(chan string, 1)
	side := mustTool(t, "side", func(_ context.Context, a cityArgs) (string, error) { ran <- a.City; return "done", nil })
	truncated := scriptedStream(t, client.Usage{}, toolCall("c1", "side", `{"city":"Oslo"}`))
	truncated.Body = strings.TrimSuffix(truncated.Body, "data: [DONE]\n\n")
	fake.Enqueue(truncated)
	_, err := collectRun(runToolsStreaming(c, context.Background(), runParams("Hi"), []toolrunner.Tool{side}))
	var re *toolrunner.RunError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want a *ToolRunError", err, err)
	}
	select { // the run returns once its tools have
	case got := <-ran:
		if got != "Oslo" {
			t.Errorf("the tool ran with %q", got)
		}
	default:
		t.Error("the tool did not run")
	}
	run := re.Transcript
	if len(run.Calls) != 1 || run.Calls[0].Result != "done" || len(run.Messages) != 3 {
		t.Fatalf("transcript: calls %+v, %d messages", run.Calls, len(run.Messages))
	}
	if asked, answered := answers(t, run.Messages); fmt.Sprint(asked) != "[c1]" || fmt.Sprint(answered) != "[c1=done]" {
		t.Errorf("asked %v, answered %v", asked, answered)
	}
}

// TestRunToolsRelaxesForcedToolChoice: a tool_choice that forces a call
// applies to the first turn; once the model has called tools, the next turn
// is sent with "auto", and the fake's model answers (it used to call the
// tool again on every turn, up to a *MaxTurnsError).
func TestRunToolsRelaxesForcedToolChoice(t *testing.T) {
	for _, choice := range []string{"required", "function"} {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprint(choice, "/streamed=", streamed), func(t *testing.T) {
				fake, c := newFake(t)
				params := runParams("What's the weather in Paris?")
				params.ToolChoice = client.ToolChoiceRequired()
				if choice == "function" {
					params.ToolChoice = client.ToolChoiceFunction("get_weather")
				}
				var run toolrunner.Transcript
				var err error
				if streamed {
					run, err = collectRun(runToolsStreaming(c, context.Background(), params, []toolrunner.Tool{weatherTool(t)}))
				} else {
					run, err = runTools(c, context.Background(), params, []toolrunner.Tool{weatherTool(t)})
				}
				if err != nil {
					t.Fatal(err)
				}
				if run.Turns != 2 || len(run.Calls) != 1 || run.Content() == "" {
					t.Errorf("%d turns, %d calls, answer %q; want 2, 1 and an answer", run.Turns, len(run.Calls), run.Content())
				}
				want := []string{`"required"`, `"auto"`}
				if choice == "function" {
					want[0] = `{"function":{"name":"get_weather"},"type":"function"}`
				}
				for i, w := range want {
					if got := sentField(t, fake, i, "tool_choice"); got != w {
						t.Errorf("request %d: tool_choice %s, want %s", i+1, got, w)
					}
				}
				if b, _ := json.Marshal(params.ToolChoice); string(b) != want[0] {
					t.Errorf("the caller's tool_choice became %s", b)
				}
			})
		}
	}
}

// sentField returns the raw JSON of a top-level field of the n-th chat
// request the fake received.
func sentField(t *testing.T, fake *cerebrastest.Server, n int, field string) string {
	t.Helper()
	var body map[string]json.RawMessage
	chatRequest(t, fake, n, &body)
	return string(body[field])
}

func TestMustNewTool(t *testing.T) {
	if tool := toolrunner.MustNewTool("get_weather", "", func(context.Context, cityArgs) (string, error) { return "", nil }); tool.Name() != "get_weather" {
		t.Errorf("Name() = %q", tool.Name())
	}
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, client.ErrInvalidInput) {
			t.Errorf("recovered %v, want NewTool's *ParamError", err)
		}
	}()
	toolrunner.MustNewTool("f", "", func(context.Context, int) (string, error) { return "", nil })
	t.Error("MustNewTool returned for non-struct arguments")
}

// stubChat is a Completer without HTTP: it answers turn n with answers[n].
type stubChat struct {
	answers []client.ChatCompletion
	got     []client.ChatCompletionNewParams
}

func (s *stubChat) New(_ context.Context, p client.ChatCompletionNewParams, _ ...client.Option) (*client.ChatCompletion, error) {
	s.got = append(s.got, p)
	if len(s.got) > len(s.answers) {
		return nil, errors.New("stubChat: no answer left")
	}
	return &s.answers[len(s.got)-1], nil
}

func (s *stubChat) NewStreaming(context.Context, client.ChatCompletionNewParams, ...client.Option) (*streaming.Stream[client.ChatCompletionChunk], error) {
	return nil, errors.New("stubChat: no streams")
}

// TestRunnerWithoutHTTP runs a Runner on a Completer of its own: the
// runner needs nothing of a client but the two chat methods.
func TestRunnerWithoutHTTP(t *testing.T) {
	answer := func(content string, calls ...client.ToolCall) client.ChatCompletion {
		return client.ChatCompletion{Choices: []client.ChatCompletionChoice{{Message: client.ChatCompletionMessage{Role: "assistant", Content: content, ToolCalls: calls}}}}
	}
	chat := &stubChat{answers: []client.ChatCompletion{answer("", toolCall("c1", "get_weather", `{"city":"Oslo"}`)), answer("Mild.")}}
	r := toolrunner.Runner{Chat: chat, Tools: []toolrunner.Tool{weatherTool(t)}}
	run, err := r.Run(context.Background(), runParams("Weather in Oslo?"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Content() != "Mild." || len(run.Calls) != 1 || run.Calls[0].Result != `{"city":"Oslo","temp_c":21}` {
		t.Fatalf("run = %q, calls %+v", run.Content(), run.Calls)
	}
	if len(chat.got) != 2 || len(chat.got[0].Tools) != 1 || len(chat.got[1].Messages) != 3 {
		t.Errorf("sent %d requests; the second with %d messages", len(chat.got), len(chat.got[1].Messages))
	}
}

// TestRunToolsStartsACallWhenASlotIsFree makes one turn of 1,000 calls of a
// tool that blocks until the test lets it go. While Concurrency calls run,
// the others wait in a queue, not in a goroutine each (a turn of 20,000
// calls used to start 20,000 goroutines to run 8): the stream counts them
// once every call is added and the first ones have started, and every
// tool counts them as it starts. Released, every call runs once and is
// answered in the model's order; cancelled, or aborted by a failing call,
// the queued calls never run (they used to race the cancellation for a
// slot) and are answered as cancelled.
func TestRunToolsStartsACallWhenASlotIsFree(t *testing.T) {
	const n, limit = 1000, toolrunner.DefaultConcurrency
	const slack = 16 // the test's, the HTTP client's and the fake's goroutines
	errBroken := errors.New("the backend is down")
	var calls []client.ToolCall
	for i := range n {
		calls = append(calls, toolCall(fmt.Sprint("c", i), "block", fmt.Sprintf(`{"city":"%d"}`, i)))
	}
	for _, mode := range []string{"release", "cancel", "abort"} {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streamed=%v", mode, streamed), func(t *testing.T) {
				ignore := goleak.IgnoreCurrent()
				var started, peak atomic.Int64
				release, fail, allStarted := make(chan struct{}), make(chan struct{}), make(chan struct{})
				block := mustTool(t, "block", func(ctx context.Context, a cityArgs) (string, error) {
					for g := int64(runtime.NumGoroutine()); g > peak.Load() && !peak.CompareAndSwap(peak.Load(), g); {
					}
					if started.Add(1) == limit {
						close(allStarted)
					}
					var failNow chan struct{} // only the first call fails
					if a.City == "0" {
						failNow = fail
					}
					select {
					case <-release:
						return a.City, nil
					case <-failNow:
						return "", errBroken
					case <-ctx.Done():
						return "", ctx.Err()
					}
				})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				act := map[string]func(){"release": func() { close(release) }, "cancel": cancel, "abort": func() { close(fail) }}[mode]
				r := toolrunner.Runner{Tools: []toolrunner.Tool{block}, Concurrency: limit, AbortOnToolError: mode == "abort"}
				var run toolrunner.Transcript
				var err error
				before := runtime.NumGoroutine()
				if streamed {
					fake, c := newFake(t)
					r.Chat = c.Chat.Completions
					fake.Enqueue(fragmentStream(t, client.Usage{}, calls))
					if mode == "release" {
						fake.Enqueue(fragmentStream(t, client.Usage{})) // the answer
					}
					finished := 0
					run, err = collectRun(func(yield func(toolrunner.Event, error) bool) {
						for ev, err := range r.Stream(ctx, runParams("Hi")) {
							if ev.Kind == toolrunner.CallFinished {
								if finished++; finished == n { // every call is added
									<-allStarted
									if g := runtime.NumGoroutine() - before; g > limit+slack {
										t.Errorf("%d goroutines more, with %d calls running and %d queued; want at most %d", g, limit, n-limit, limit+slack)
									}
									act()
								}
							}
							if !yield(ev, err) {
								return
							}
						}
					})
					_ = c.Close()
					fake.Close()
				} else {
					chat := &stubChat{answers: []client.ChatCompletion{
						{Choices: []client.ChatCompletionChoice{{Message: client.ChatCompletionMessage{Role: "assistant", ToolCalls: calls}}}},
						{Choices: []client.ChatCompletionChoice{{Message: client.ChatCompletionMessage{Role: "assistant", Content: "Done."}}}},
					}}
					r.Chat = chat
					type result struct {
						run toolrunner.Transcript
						err error
					}
					done := make(chan result, 1)
					go func() {
						run, err := r.Run(ctx, runParams("Hi"))
						done <- result{run, err}
					}()
					select {
					case <-allStarted:
						act()
					case res := <-done:
						t.Fatalf("the run ended before %d calls started: %v", limit, res.err)
					}
					res := <-done
					run, err = res.run, res.err
				}
				if g := peak.Load() - int64(before); g > limit+slack {
					t.Errorf("up to %d goroutines more as the tools started; want at most %d", g, limit+slack)
				}
				if e := (*toolrunner.RunError)(nil); errors.As(err, &e) {
					run = e.Transcript
				}
				if e := (*toolrunner.ToolError)(nil); errors.As(err, &e) {
					run = e.Transcript
				}
				wantStarted, want := n, func(i int) string { return fmt.Sprint(i) }
				switch mode {
				case "release":
					if err != nil {
						t.Fatal(err)
					}
				case "cancel", "abort":
					var te *toolrunner.ToolError
					if mode == "cancel" && !errors.Is(err, context.Canceled) || mode == "abort" && (!errors.As(err, &te) || te.Call.ID != "c0") {
						t.Fatalf("err = %v", err)
					}
					wantStarted, want = limit, func(i int) string {
						switch {
						case i == 0 && mode == "abort":
							return "error: " + errBroken.Error()
						case i < limit:
							return "error: context canceled"
						}
						return "error: the call was cancelled before it ran"
					}
				}
				if got := started.Load(); got != int64(wantStarted) {
					t.Errorf("%d tools started, want %d", got, wantStarted)
				}
				if len(run.Calls) != n || len(run.Messages) < 2+n {
					t.Fatalf("%d calls, %d messages", len(run.Calls), len(run.Messages))
				}
				asked, answered := answers(t, run.Messages[:2+n])
				for i := range n {
					id := fmt.Sprint("c", i)
					if c := run.Calls[i]; c.ID != id || c.Index != i || c.Result != want(i) || asked[i] != id || answered[i] != id+"="+want(i) {
						t.Fatalf("call %d: %+v, asked %s, answered %q; want %s answered %q", i, c, asked[i], answered[i], id, want(i))
					}
				}
				goleak.VerifyNone(t, ignore)
			})
		}
	}
}

// choice is one choice of a scripted answer: its index, text and tool calls.
type choice struct {
	index int
	text  string
	calls []client.ToolCall
}

// scriptedChoices is a literal answer, whole or streamed, with the choices
// in the order given. A streamed choice is a chunk with its text and whole
// tool calls, then one with its finish reason.
func scriptedChoices(t *testing.T, streamed bool, choices ...choice) cerebrastest.Response {
	t.Helper()
	comp := client.ChatCompletion{ID: "chatcmpl-scripted", Object: "chat.completion", Created: 1, Model: client.ModelGPTOSS120B,
		Choices: []client.ChatCompletionChoice{}, Usage: &client.Usage{TotalTokens: 3}}
	var chunks []client.ChatCompletionChunk
	chunk := func(ch client.ChatCompletionChunkChoice) {
		chunks = append(chunks, client.ChatCompletionChunk{ID: comp.ID, Object: "chat.completion.chunk", Created: 1, Model: comp.Model,
			Choices: []client.ChatCompletionChunkChoice{ch}})
	}
	for _, c := range choices {
		calls := append([]client.ToolCall(nil), c.calls...)
		for i := range calls {
			calls[i].Index = client.Int(i)
		}
		finish := client.FinishReasonStop
		if len(calls) > 0 {
			finish = client.FinishReasonToolCalls
		}
		comp.Choices = append(comp.Choices, client.ChatCompletionChoice{Index: c.index, FinishReason: finish,
			Message: client.ChatCompletionMessage{Role: "assistant", Content: c.text, ToolCalls: calls}})
		chunk(client.ChatCompletionChunkChoice{Index: c.index, Delta: client.ChatCompletionChunkDelta{Role: "assistant", Content: c.text, ToolCalls: calls}})
		chunk(client.ChatCompletionChunkChoice{Index: c.index, FinishReason: finish})
	}
	if streamed {
		chunks = append(chunks, client.ChatCompletionChunk{ID: comp.ID, Object: "chat.completion.chunk", Created: 1, Model: comp.Model,
			Choices: []client.ChatCompletionChunkChoice{}, Usage: comp.Usage})
		return sseResponse(t, chunks)
	}
	b, err := json.Marshal(comp)
	if err != nil {
		t.Fatal(err)
	}
	return cerebrastest.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: string(b)}
}

// TestRunToolsFollowsChoiceZero answers with choices besides choice 0,
// before it or in its place: the run follows the choice whose Index is 0,
// wherever it is, and the calls of the others never run. Streamed, a choice
// before choice 0 used to take its place: with fewer calls than choice 0
// it panicked (slice bounds out of range), otherwise its calls ran and
// choice 0's answer was lost; whole, Choices[0] was followed, whatever its
// index. A completion without choice 0 ends the run with ErrNoChoice and
// the transcript; Run used to panic on one without choices.
func TestRunToolsFollowsChoiceZero(t *testing.T) {
	strays := []client.ToolCall{toolCall("s1", "stray", "{}"), toolCall("s2", "stray", "{}")}
	good := []client.ToolCall{toolCall("g1", "good", "{}"), toolCall("g2", "good", "{}")}
	tests := []struct {
		name    string
		choices []choice
		calls   string // the calls run, as the transcript has them
		answer  string // the run's answer, or "" when it fails
	}{
		{"stray calls before choice 0's answer", []choice{{index: -1, calls: strays}, {index: 0, text: "Done."}}, "[]", "Done."},
		{"stray calls before choice 0's calls", []choice{{index: 1, calls: strays}, {index: 0, calls: good[:1]}}, "[g1=good]", "Answered."},
		{"fewer stray calls before choice 0's", []choice{{index: -1, calls: strays[:1]}, {index: 0, calls: good}}, "[g1=good g2=good]", "Answered."},
		{"stray calls after choice 0's", []choice{{index: 0, calls: good[:1]}, {index: 2, calls: strays}}, "[g1=good]", "Answered."},
		{"no choice 0", []choice{{index: 1, calls: strays}, {index: 2, text: "Hi."}}, "[]", ""},
		{"no choice", nil, "[]", ""},
	}
	for _, tt := range tests {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streamed=%v", tt.name, streamed), func(t *testing.T) {
				fake, c := newFake(t)
				var stray atomic.Int64
				tools := []toolrunner.Tool{
					mustTool(t, "good", func(context.Context, struct{}) (string, error) { return "good", nil }),
					mustTool(t, "stray", func(context.Context, struct{}) (string, error) { stray.Add(1); return "stray", nil }),
				}
				fake.Enqueue(scriptedChoices(t, streamed, tt.choices...))
				if tt.calls != "[]" {
					fake.Enqueue(scriptedChoices(t, streamed, choice{text: "Answered."}))
				}
				var run toolrunner.Transcript
				var err error
				if streamed {
					run, err = collectRun(runToolsStreaming(c, context.Background(), runParams("Hi"), tools))
					var re *toolrunner.RunError
					if errors.As(err, &re) {
						run = re.Transcript
					} else if err != nil {
						t.Errorf("err = %v (%T), want a *RunError", err, err)
					}
				} else if tt.choices == nil {
					// The client refuses a whole completion without choices;
					// another Completer may return one.
					chat := &stubChat{answers: []client.ChatCompletion{{Choices: []client.ChatCompletionChoice{}, Usage: &client.Usage{TotalTokens: 3}}}}
					run, err = (&toolrunner.Runner{Chat: chat, Tools: tools}).Run(context.Background(), runParams("Hi"))
				} else {
					run, err = runTools(c, context.Background(), runParams("Hi"), tools)
				}
				if tt.answer == "" {
					if !errors.Is(err, toolrunner.ErrNoChoice) {
						t.Errorf("err = %v, want ErrNoChoice", err)
					}
					if run.Turns != 1 || len(run.Completion.Choices) != len(tt.choices) || run.Usage.TotalTokens != 3 || len(run.Messages) != 1 {
						t.Errorf("transcript: %d turns, %d choices, usage %d, %d messages; want the completion received", run.Turns, len(run.Completion.Choices), run.Usage.TotalTokens, len(run.Messages))
					}
				} else if err != nil {
					t.Fatal(err)
				}
				var calls []string
				for _, c := range run.Calls {
					calls = append(calls, c.ID+"="+c.Result)
				}
				if got := fmt.Sprint(calls); got != tt.calls || stray.Load() != 0 {
					t.Errorf("calls %s, the stray tool ran %d times; want %s and 0", got, stray.Load(), tt.calls)
				}
				if run.Content() != tt.answer {
					t.Errorf("Content() = %q, want %q", run.Content(), tt.answer)
				}
				if tt.answer != "" && client.MessageText(run.Messages[len(run.Messages)-1]) != tt.answer {
					t.Errorf("the transcript ends with %q, want %q", client.MessageText(run.Messages[len(run.Messages)-1]), tt.answer)
				}
				if tt.calls != "[]" {
					asked, answered := answers(t, run.Messages[:len(run.Messages)-1])
					var want []string
					for _, a := range calls {
						want = append(want, strings.Split(a, "=")[0])
					}
					if fmt.Sprint(asked) != fmt.Sprint(want) || fmt.Sprint(answered) != tt.calls {
						t.Errorf("asked %v, answered %v; want %v, %s", asked, answered, want, tt.calls)
					}
				}
			})
		}
	}
}

// TestRunToolsGeneratedIDsDoNotCollide sends calls without an id beside
// calls whose ids the runner used to generate for them (call_run_1_1 for
// the call at index 1 of turn 1): the real call was taken for a repeat of
// the generated one, and never ran nor was answered. Every call runs once
// and is answered once, and the ids are unique: the model's kept, the
// generated ones new.
func TestRunToolsGeneratedIDsDoNotCollide(t *testing.T) {
	calls := []client.ToolCall{toolCall("call_run_1_1", "echo", `{"city":"Oslo"}`), toolCall("", "echo", `{"city":"Rome"}`),
		toolCall("", "echo", `{"city":"Lima"}`), toolCall("call_run_1_2", "echo", `{"city":"Kyiv"}`)}
	cities := []string{"Oslo", "Rome", "Lima", "Kyiv"}
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprint("streamed=", streamed), func(t *testing.T) {
			fake, c := newFake(t)
			var mu sync.Mutex
			ran := map[string]int{}
			echo := mustTool(t, "echo", func(_ context.Context, a cityArgs) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				ran[a.City]++
				return a.City, nil
			})
			var run toolrunner.Transcript
			var err error
			events := map[toolrunner.EventKind][]string{}
			if streamed {
				fake.Enqueue(scriptedStream(t, client.Usage{}, calls...))
				var evs []toolrunner.Event
				run, evs, err = collectEvents(runToolsStreaming(c, context.Background(), runParams("Hi"), []toolrunner.Tool{echo}))
				for _, ev := range evs {
					if ev.Turn == 1 {
						events[ev.Kind] = append(events[ev.Kind], ev.Call.ID)
					}
				}
			} else {
				fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, calls...))
				run, err = runTools(c, context.Background(), runParams("Hi"), []toolrunner.Tool{echo})
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, city := range cities {
				if ran[city] != 1 {
					t.Errorf("the call for %s ran %d times, want 1 (ran %v)", city, ran[city], ran)
				}
			}
			asked, answered := answers(t, sent(t, fake, 1))
			if len(asked) != len(calls) || len(answered) != len(calls) || len(run.Calls) != len(calls) || len(run.Messages) < 2+len(calls) {
				t.Fatalf("asked %v, answered %v, %d calls, %d messages; want %d of each", asked, answered, len(run.Calls), len(run.Messages), len(calls))
			}
			seen := map[string]bool{}
			for i, id := range asked {
				if seen[id] || id == "" {
					t.Errorf("call %d has the id %q, which is empty or another call's (ids %v)", i, id, asked)
				}
				seen[id] = true
				if calls[i].ID != "" && id != calls[i].ID {
					t.Errorf("call %d has the id %q, want the model's, %q", i, id, calls[i].ID)
				}
				if answered[i] != id+"="+cities[i] {
					t.Errorf("answer %d = %q, want %q", i, answered[i], id+"="+cities[i])
				}
				if c := run.Calls[i]; c.ID != id || c.Err != nil || c.Result != cities[i] {
					t.Errorf("call %d: %+v, want id %s answered %s", i, c, id, cities[i])
				}
			}
			if tAsked, tAnswered := answers(t, run.Messages[:2+len(calls)]); fmt.Sprint(tAsked) != fmt.Sprint(asked) || fmt.Sprint(tAnswered) != fmt.Sprint(answered) {
				t.Errorf("the transcript asked %v, answered %v; the request %v, %v", tAsked, tAnswered, asked, answered)
			}
			if streamed {
				for _, k := range []toolrunner.EventKind{toolrunner.CallStarted, toolrunner.CallFinished, toolrunner.CallResult} {
					if fmt.Sprint(events[k]) != fmt.Sprint(asked) {
						t.Errorf("%s events have ids %v, want %v", k, events[k], asked)
					}
				}
			}
		})
	}
}
