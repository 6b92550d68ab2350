package streaming

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cerebras-go/cerebras/gen"
)

func ip(i int) *int { return &i }

func contentChunk(index int, content string) gen.ChatCompletionChunk {
	return gen.ChatCompletionChunk{ID: "c1", Model: "m", Created: 7,
		Choices: []gen.ChatCompletionChunkChoice{{Index: index, Delta: gen.ChatCompletionChunkDelta{Content: content}}}}
}

func finishChunk(index int, reason gen.FinishReason) gen.ChatCompletionChunk {
	return gen.ChatCompletionChunk{Choices: []gen.ChatCompletionChunkChoice{{Index: index, FinishReason: reason}}}
}

func toolChunk(calls ...gen.ToolCall) gen.ChatCompletionChunk {
	return gen.ChatCompletionChunk{Choices: []gen.ChatCompletionChunkChoice{{Delta: gen.ChatCompletionChunkDelta{ToolCalls: calls}}}}
}

func TestAccumulatorContentReasoningUsage(t *testing.T) {
	var acc ChatCompletionAccumulator
	acc.AddChunk(gen.ChatCompletionChunk{ID: "c1", Model: "m", Created: 7, SystemFingerprint: "fp",
		Choices: []gen.ChatCompletionChunkChoice{{Delta: gen.ChatCompletionChunkDelta{Role: "assistant", Reasoning: "think "}}}})
	acc.AddChunk(gen.ChatCompletionChunk{Choices: []gen.ChatCompletionChunkChoice{{Delta: gen.ChatCompletionChunkDelta{Reasoning: "hard"},
		Logprobs: &gen.ChatCompletionLogprobs{Content: []gen.TokenLogprob{{Token: "a", Logprob: -1}}}}}})
	acc.AddChunk(contentChunk(0, "Hello"))
	acc.AddChunk(gen.ChatCompletionChunk{Choices: []gen.ChatCompletionChunkChoice{{Delta: gen.ChatCompletionChunkDelta{Content: ", world"},
		Logprobs: &gen.ChatCompletionLogprobs{Content: []gen.TokenLogprob{{Token: "b", Logprob: -2}}}}}})
	acc.AddChunk(finishChunk(0, gen.FinishReasonStop))
	acc.AddChunk(gen.ChatCompletionChunk{Usage: &gen.Usage{TotalTokens: 22}, TimeInfo: &gen.TimeInfo{TotalTime: 0.5}})

	c := acc.ChatCompletion()
	got, _ := json.Marshal(c)
	want := `{"choices":[{"finish_reason":"stop","index":0,"logprobs":{"content":[{"logprob":-1,"token":"a"},{"logprob":-2,"token":"b"}]},"message":{"content":"Hello, world","reasoning":"think hard","role":"assistant"}}],"created":7,"id":"c1","model":"m","object":"chat.completion","system_fingerprint":"fp","time_info":{"total_time":0.5},"usage":{"total_tokens":22}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if acc.Chunks() != 6 {
		t.Errorf("Chunks() = %d", acc.Chunks())
	}
}

// TestAccumulatorToolCallAcross200Chunks: arguments arrive in 200
// fragments without ids after the first; the call finishes with finish_reason.
func TestAccumulatorToolCallAcross200Chunks(t *testing.T) {
	var acc ChatCompletionAccumulator
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(0), ID: "call_0", Type: "function",
		Function: gen.ToolCallFunction{Name: "lookup", Arguments: ""}}))
	args := `{"items":[` + strings.Repeat(`"xxxxxxxx",`, 199) + `"end"]}`
	for i := range 200 {
		part := args[i*len(args)/200 : (i+1)*len(args)/200]
		acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(0), Function: gen.ToolCallFunction{Arguments: part}}))
		if len(acc.JustFinishedToolCalls()) != 0 {
			t.Fatal("a tool call finished before finish_reason")
		}
	}
	acc.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))
	done := acc.JustFinishedToolCalls()
	if len(done) != 1 || done[0].ID != "call_0" || done[0].Name != "lookup" || done[0].Arguments != args || done[0].Err != nil {
		t.Fatalf("finished = %+v", done)
	}
	msg := acc.ChatCompletion().Choices[0].Message
	if len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Function.Arguments != args || msg.ToolCalls[0].Type != "function" {
		t.Errorf("message tool calls = %+v", msg.ToolCalls)
	}
	acc.AddChunk(gen.ChatCompletionChunk{})
	if len(acc.JustFinishedToolCalls()) != 0 {
		t.Error("JustFinishedToolCalls still reports calls after the next chunk")
	}
}

func TestAccumulatorParallelAndOddToolCalls(t *testing.T) {
	var acc ChatCompletionAccumulator
	// Two parallel calls, interleaved by index.
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(0), ID: "a", Function: gen.ToolCallFunction{Name: "f", Arguments: `{"x":`}},
		gen.ToolCall{Index: ip(1), ID: "b", Function: gen.ToolCallFunction{Name: "g"}}))
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(1), Function: gen.ToolCallFunction{Arguments: `{"y"`}}))
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(0), Function: gen.ToolCallFunction{Arguments: `1}`}}))
	// A third call with no index at all (id only), then a continuation with index -1.
	acc.AddChunk(toolChunk(gen.ToolCall{ID: "c", Function: gen.ToolCallFunction{Name: "h"}}))
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(-1), Function: gen.ToolCallFunction{Arguments: `{}`}}))
	// A fourth with no arguments at all.
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(7), ID: "d", Function: gen.ToolCallFunction{Name: "noargs"}}))
	acc.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))

	done := acc.JustFinishedToolCalls()
	got := make([]string, len(done))
	for i, d := range done {
		got[i] = fmt.Sprintf("%d:%s:%s:%s:%v", d.Index, d.ID, d.Name, d.Arguments, d.Err != nil)
	}
	want := []string{`0:a:f:{"x":1}:false`, `1:b:g:{"y":true`, `2:c:h:{}:false`, `7:d:noargs:{}:false`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("finished\n got %q\nwant %q", got, want)
	}
	if done[1].Err == nil || !strings.Contains(done[1].Err.Error(), "not valid JSON") {
		t.Errorf("invalid arguments not reported: %v", done[1].Err)
	}
}

func TestAccumulatorInterleavedChoices(t *testing.T) {
	var acc ChatCompletionAccumulator
	for i := 0; i < 30; i++ {
		c := gen.ChatCompletionChunk{}
		for _, idx := range []int{2, 0, 1} {
			c.Choices = append(c.Choices, gen.ChatCompletionChunkChoice{Index: idx, Delta: gen.ChatCompletionChunkDelta{Content: fmt.Sprint(idx)}})
		}
		acc.AddChunk(c)
	}
	acc.AddChunk(finishChunk(1, gen.FinishReasonLength))
	c := acc.ChatCompletion()
	if len(c.Choices) != 3 {
		t.Fatalf("%d choices", len(c.Choices))
	}
	for i, ch := range c.Choices {
		if ch.Index != i || ch.Message.Content != strings.Repeat(fmt.Sprint(i), 30) {
			t.Errorf("choice %d = %d %q", i, ch.Index, ch.Message.Content)
		}
	}
	if c.Choices[1].FinishReason != gen.FinishReasonLength || c.Choices[0].FinishReason != "" {
		t.Error("finish reasons are not per choice")
	}
}

// FuzzAccumulator: any sequence of chunks folds without panicking, and the
// content of each choice is exactly the concatenation of its deltas.
func FuzzAccumulator(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5}, "hello", "{\"a\":1}")
	f.Add([]byte{255, 128, 7, 0, 0, 9}, "", "")
	f.Fuzz(func(t *testing.T, script []byte, text, args string) {
		var acc ChatCompletionAccumulator
		want := map[int]string{}
		for i, op := range script {
			idx := int(op%4) - 1 // includes -1
			switch op >> 4 % 4 {
			case 0:
				acc.AddChunk(contentChunk(idx, text))
				want[idx] += text
			case 1:
				acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(idx), ID: fmt.Sprint(i % 3), Function: gen.ToolCallFunction{Arguments: args}}))
			case 2:
				acc.AddChunk(finishChunk(idx, gen.FinishReason(text)))
				for _, d := range acc.JustFinishedToolCalls() {
					if (d.Err == nil) != json.Valid([]byte(d.Arguments)) {
						t.Fatalf("Err %v for arguments %q", d.Err, d.Arguments)
					}
				}
			default:
				acc.AddChunk(gen.ChatCompletionChunk{Choices: []gen.ChatCompletionChunkChoice{{Index: idx}}})
			}
		}
		for _, ch := range acc.ChatCompletion().Choices {
			if got := ch.Message.Content; got != want[ch.Index] {
				t.Fatalf("choice %d content %q, want %q", ch.Index, got, want[ch.Index])
			}
		}
	})
}

// bestOf returns the shortest of several runs of f: the run least disturbed
// by the rest of a loaded machine.
func bestOf(runs int, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range runs {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// manyToolCalls returns a chunk with n tool-call fragments, one per index:
// the shape of one huge event of parallel calls.
func manyToolCalls(n int) gen.ChatCompletionChunk {
	calls := make([]gen.ToolCall, n)
	for i := range calls {
		calls[i] = gen.ToolCall{Index: ip(i), Function: gen.ToolCallFunction{Arguments: "{}"}}
	}
	return toolChunk(calls...)
}

// TestAccumulatorIsLinearInToolCalls: the accumulator's cost is linear in
// the number of tool-call indexes, as its doc says. Eight times the calls must
// cost less than 256 times the time: linear is 8, measured 13-80 here (the
// larger figures beside a CPU hog); the quadratic accumulator this replaced
// measured 740. Both sizes are past the jump in
// cost per call that comes when the work outgrows the CPU caches (between 4,000
// and 16,000 calls), which a smaller pair measures instead of the algorithm.
// The runs take turns, after a GC each, and each keeps its best, so a burst of
// load hits both alike.
func TestAccumulatorIsLinearInToolCalls(t *testing.T) {
	const n, factor = 8000, 8
	small, large := manyToolCalls(n), manyToolCalls(factor*n)
	run := func(c gen.ChatCompletionChunk) func() {
		return func() {
			var acc ChatCompletionAccumulator
			acc.AddChunk(c)
			acc.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))
			if got := len(acc.JustFinishedToolCalls()); got != len(c.Choices[0].Delta.ToolCalls) {
				t.Fatalf("%d calls finished, want %d", got, len(c.Choices[0].Delta.ToolCalls))
			}
		}
	}
	tSmall, tLarge := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 9 {
		runtime.GC()
		tSmall = min(tSmall, bestOf(1, run(small)))
		runtime.GC()
		tLarge = min(tLarge, bestOf(1, run(large)))
	}
	ratio := float64(tLarge) / float64(tSmall)
	t.Logf("%d tool calls: %s; %d: %s; ratio %.1f (linear %d)", n, tSmall, factor*n, tLarge, ratio, factor)
	if ratio >= factor*factor*factor/2 {
		t.Errorf("%dx the tool calls cost %.1fx the time: worse than linear", factor, ratio)
	}
}

// TestAccumulatorReportsEachToolCallOnce: a call reported finished is never
// reported again by a later finish of its choice, so a tool runner built on
// JustFinishedToolCalls never runs a tool twice.
func TestAccumulatorReportsEachToolCallOnce(t *testing.T) {
	var acc ChatCompletionAccumulator
	finished := func() []string {
		var ids []string
		for _, d := range acc.JustFinishedToolCalls() {
			ids = append(ids, d.ID)
		}
		return ids
	}
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(0), ID: "a", Function: gen.ToolCallFunction{Name: "f", Arguments: `{}`}}))
	acc.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))
	if got := finished(); strings.Join(got, ",") != "a" {
		t.Fatalf("first finish reported %q, want [a]", got)
	}
	acc.AddChunk(toolChunk(gen.ToolCall{Index: ip(1), ID: "b", Function: gen.ToolCallFunction{Name: "g", Arguments: `{}`}}))
	acc.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))
	if got := finished(); strings.Join(got, ",") != "b" {
		t.Errorf("second finish reported %q, want [b] (a was already reported)", got)
	}
	acc.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))
	if got := finished(); len(got) != 0 {
		t.Errorf("a finish with no new call reported %q", got)
	}
	// Every call still reaches the completion.
	if calls := acc.ChatCompletion().Choices[0].Message.ToolCalls; len(calls) != 2 {
		t.Errorf("completion has %d tool calls, want 2", len(calls))
	}

	// n calls, each followed by a finish: n reports (and n validations of
	// arguments) in all, not n(n+1)/2.
	var many ChatCompletionAccumulator
	reports := 0
	for i := range 100 {
		many.AddChunk(toolChunk(gen.ToolCall{Index: ip(i), ID: fmt.Sprint(i), Function: gen.ToolCallFunction{Arguments: `{}`}}))
		many.AddChunk(finishChunk(0, gen.FinishReasonToolCalls))
		reports += len(many.JustFinishedToolCalls())
	}
	if reports != 100 {
		t.Errorf("100 calls were reported %d times", reports)
	}
}

// modelCall and modelChoice are the obviously correct (and quadratic)
// accumulator FuzzAccumulatorToolCalls checks the real one against.
type modelCall struct {
	index          int
	id, name, args string
}

type modelChoice struct {
	calls    []*modelCall
	reported int
}

func (m *modelChoice) add(tc gen.ToolCall) {
	var c *modelCall
	index := -1
	if tc.Index != nil && *tc.Index >= 0 {
		index = *tc.Index
	}
	switch {
	case index >= 0:
		for _, x := range m.calls {
			if x.index == index {
				c = x
				break
			}
		}
	case len(m.calls) > 0:
		c = m.calls[len(m.calls)-1]
	}
	if c != nil && tc.ID != "" && c.id != "" && tc.ID != c.id {
		// Another call's id: that call, or a new one.
		c = nil
		for _, x := range m.calls {
			if x.id == tc.ID {
				c = x
				break
			}
		}
	}
	if c == nil {
		c = &modelCall{index: len(m.calls)}
		used := false
		for _, x := range m.calls {
			used = used || x.index == index
		}
		if index >= 0 && !used {
			c.index = index
		}
		m.calls = append(m.calls, c)
	}
	if c.id == "" {
		c.id = tc.ID
	}
	if c.name == "" {
		c.name = tc.Function.Name
	}
	c.args += tc.Function.Arguments
}

func (c *modelCall) arguments() string {
	if c.args == "" {
		return "{}"
	}
	return c.args
}

// FuzzAccumulatorToolCalls: over many choices and tool-call indexes (missing
// and negative ones included), the accumulator merges fragments exactly as
// a naive scan does, reports each call finished exactly once, in order, and
// validates its arguments.
func FuzzAccumulatorToolCalls(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 2, 1, 0, 0, 3, 1, 0, 1, 0}, `{"a":`)
	f.Add([]byte{4, 5, 0, 255, 0, 254, 4, 200, 5, 0, 0, 255, 1, 0, 4, 7}, "1}")
	f.Add(bytes.Repeat([]byte{0, 63, 4, 33, 1, 0, 5, 0}, 40), "{}")
	f.Fuzz(func(t *testing.T, script []byte, args string) {
		var acc ChatCompletionAccumulator
		model := map[int]*modelChoice{}
		started := map[int][]string{} // per choice, "index id" of each call reported started
		noteStarted := func() {
			for _, s := range acc.JustStartedToolCalls() {
				started[s.ChoiceIndex] = append(started[s.ChoiceIndex], fmt.Sprint(s.Index, " ", s.ID))
			}
		}
		// Each op is two bytes: kind and choice, then an index: 0-253, or
		// 254 for -1, or 255 for none.
		for i := 0; i+1 < len(script); i += 2 {
			kind, choice, index := script[i]&3, int(script[i]>>2)&1, script[i+1]
			m := model[choice]
			if m == nil {
				m = &modelChoice{}
				model[choice] = m
			}
			if kind == 1 {
				acc.AddChunk(finishChunk(choice, gen.FinishReasonToolCalls))
				noteStarted()
				if len(started[choice]) != len(m.calls) {
					t.Fatalf("op %d: %d calls started by the finish, want %d", i, len(started[choice]), len(m.calls))
				}
				first := m.reported
				want := m.calls[m.reported:]
				m.reported = len(m.calls)
				got := acc.JustFinishedToolCalls()
				for j, g := range got { // started as it finishes (a later fragment may still bring an id)
					if s := started[choice][first+j]; s != fmt.Sprint(g.Index, " ", g.ID) {
						t.Fatalf("op %d: call %d started as %q, finished as %d %q", i, first+j, s, g.Index, g.ID)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("op %d: %d calls finished, want %d", i, len(got), len(want))
				}
				for j, g := range got {
					w := want[j]
					if g.ChoiceIndex != choice || g.Index != w.index || g.ID != w.id || g.Name != w.name || g.Arguments != w.arguments() {
						t.Fatalf("op %d: finished %+v, want %+v", i, g, *w)
					}
					if (g.Err == nil) != json.Valid([]byte(g.Arguments)) {
						t.Fatalf("op %d: Err %v for arguments %q", i, g.Err, g.Arguments)
					}
				}
				continue
			}
			tc := gen.ToolCall{Function: gen.ToolCallFunction{Arguments: args, Name: fmt.Sprint("f", i)}}
			switch {
			case index == 255: // no index; a new id every other time
				if kind == 2 {
					tc.ID = fmt.Sprint("id", i)
				}
			case index == 254:
				tc.Index = ip(-1)
			default:
				tc.Index = ip(int(index))
				tc.ID = fmt.Sprint("id", index)
			}
			m.add(tc)
			c := toolChunk(tc)
			c.Choices[0].Index = choice
			acc.AddChunk(c)
			noteStarted()
			if len(acc.JustFinishedToolCalls()) != 0 {
				t.Fatalf("op %d: a fragment finished calls", i)
			}
		}
		for choice, ss := range started { // each call once, in order
			for j, s := range ss {
				if w := model[choice].calls[j]; !strings.HasPrefix(s, fmt.Sprint(w.index, " ")) {
					t.Fatalf("choice %d: call %d started as %q, want index %d", choice, j, s, w.index)
				}
			}
		}
		for _, ch := range acc.ChatCompletion().Choices {
			want := model[ch.Index].calls
			if len(ch.Message.ToolCalls) != len(want) {
				t.Fatalf("choice %d: %d tool calls, want %d", ch.Index, len(ch.Message.ToolCalls), len(want))
			}
			for j, tc := range ch.Message.ToolCalls {
				w := want[j]
				if *tc.Index != w.index || tc.ID != w.id || tc.Function.Name != w.name || tc.Function.Arguments != w.arguments() {
					t.Fatalf("choice %d call %d: %d %q %q %q, want %+v", ch.Index, j, *tc.Index, tc.ID, tc.Function.Name, tc.Function.Arguments, *w)
				}
			}
		}
	})
}

// TestAccumulatorToolCallsWithoutIndex: a server that sends no index at all
// (some OpenAI-compatible ones) streams each call as an id-carrying fragment
// and id-less continuations; the continuations belong to the last call, not
// to call 0. Decoded from the wire, so an absent index is what the decoder
// makes of it.
func TestAccumulatorToolCallsWithoutIndex(t *testing.T) {
	body := "" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","type":"function","function":{"name":"f"}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{\"x\":1}"}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","type":"function","function":{"name":"g"}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":null,"function":{"arguments":"{\"y\":2}"}}]}}]}` + "\n\n" +
		`data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}` + "\n\n" +
		"data: [DONE]\n\n"
	s := NewStream[gen.ChatCompletionChunk](serve(t, context.Background(), sse(body)))
	defer s.Close()
	var acc ChatCompletionAccumulator
	var finished []FinishedToolCall
	for s.Next() {
		acc.AddChunk(s.Current())
		finished = append(finished, acc.JustFinishedToolCalls()...)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(finished) != 2 || finished[0].Arguments != `{"x":1}` || finished[1].Arguments != `{"y":2}` ||
		finished[0].Err != nil || finished[1].Err != nil {
		t.Fatalf("finished %+v", finished)
	}
}

// TestAccumulatorReportsEachToolCallStartedOnce feeds the fragment shapes
// that a second, hand-written router got wrong: the name before the id, the
// id in a later fragment, a repeated id, a call without an id. Each call is
// reported started exactly once, in order, before or with its finish, with
// the Index and ID its finish has.
func TestAccumulatorReportsEachToolCallStartedOnce(t *testing.T) {
	var acc ChatCompletionAccumulator
	var log []string
	add := func(c gen.ChatCompletionChunk) {
		acc.AddChunk(c)
		for _, s := range acc.JustStartedToolCalls() {
			log = append(log, fmt.Sprintf("started %d:%d:%s:%s", s.ChoiceIndex, s.Index, s.ID, s.Name))
		}
		for _, f := range acc.JustFinishedToolCalls() {
			log = append(log, fmt.Sprintf("finished %d:%d:%s:%s", f.ChoiceIndex, f.Index, f.ID, f.Name))
		}
	}
	fn := func(name, args string) gen.ToolCallFunction { return gen.ToolCallFunction{Name: name, Arguments: args} }
	// index-first: index and name, then index and id, then the arguments.
	add(toolChunk(gen.ToolCall{Index: ip(0), Function: fn("f", "")}))
	add(toolChunk(gen.ToolCall{Index: ip(0), ID: "a"}))
	add(toolChunk(gen.ToolCall{Index: ip(0), Function: fn("", `{}`)}))
	// A repeated id, at another index: another call.
	add(toolChunk(gen.ToolCall{Index: ip(1), ID: "a", Function: fn("g", "")}))
	// id-later, for a call whose successor is complete at once: the
	// successor waits, to keep the order.
	add(toolChunk(gen.ToolCall{Index: ip(2), Function: fn("h", `{"x":`)}, gen.ToolCall{Index: ip(3), ID: "d", Function: fn("k", `{}`)}))
	add(toolChunk(gen.ToolCall{Index: ip(2), ID: "c", Function: fn("", `1}`)}))
	// A call that never gets an id starts when its choice finishes.
	add(toolChunk(gen.ToolCall{Index: ip(4), Function: fn("m", `{}`)}))
	add(finishChunk(0, gen.FinishReasonToolCalls))
	want := []string{
		"started 0:0:a:f", "started 0:1:a:g", "started 0:2:c:h", "started 0:3:d:k", "started 0:4::m",
		"finished 0:0:a:f", "finished 0:1:a:g", "finished 0:2:c:h", "finished 0:3:d:k", "finished 0:4::m",
	}
	if got := strings.Join(log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("reports:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if n := len(acc.ChatCompletion().Choices[0].Message.ToolCalls); n != 5 {
		t.Errorf("%d tool calls in the completion, want 5", n)
	}
	// A finish with nothing new, and a late call, started once.
	log = nil
	add(finishChunk(0, gen.FinishReasonToolCalls))
	add(toolChunk(gen.ToolCall{Index: ip(5), ID: "f", Function: fn("n", `{}`)}))
	add(finishChunk(0, gen.FinishReasonToolCalls))
	if got, want := strings.Join(log, ", "), "started 0:5:f:n, finished 0:5:f:n"; got != want {
		t.Errorf("after the first finish: %s, want %s", got, want)
	}
}
