package toolrunner_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cerebras-go/cerebras/cerebrastest"
	"github.com/cerebras-go/cerebras/client"
	"github.com/cerebras-go/cerebras/toolrunner"
)

// recorder is a client.Observer that records each operation it sees as
// one line: "<method> stream=<bool> <params> in=<parent's method> -> <outcome>".
// The context an operation runs in carries it.
type recorder struct {
	mu  sync.Mutex
	ops []*recordedOp
}

type opKey struct{}

// opMethod returns the method of the operation ctx runs in, or "-".
func opMethod(ctx context.Context) string {
	if o, ok := ctx.Value(opKey{}).(*recordedOp); ok {
		return o.method
	}
	return "-"
}

func (r *recorder) Start(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	var params string
	switch p := op.Params.(type) {
	case *client.ChatCompletionNewParams:
		params = fmt.Sprintf("model=%s messages=%d", p.Model, len(p.Messages))
	case toolrunner.Call:
		params = fmt.Sprintf("turn=%d index=%d id=%s name=%s args=%s", p.Turn, p.Index, p.ID, p.Name, p.Arguments)
	default:
		params = fmt.Sprintf("%T", p)
	}
	o := &recordedOp{method: op.Method, start: fmt.Sprintf("%s stream=%t %s in=%s", op.Method, op.Stream, params, opMethod(ctx))}
	r.mu.Lock()
	r.ops = append(r.ops, o)
	r.mu.Unlock()
	return context.WithValue(ctx, opKey{}, o), o
}

type recordedOp struct {
	method, start string
	ends          []string // written by the operation's goroutine, read once it is done
}

func (o *recordedOp) Attempt(client.Attempt) {}
func (o *recordedOp) Event(any)              {}
func (o *recordedOp) End(out client.Outcome) {
	var result string
	switch v := out.Result.(type) {
	case *toolrunner.Transcript:
		result = fmt.Sprintf("turns=%d calls=%d", v.Turns, len(v.Calls))
	case toolrunner.Call:
		result = fmt.Sprintf("result=%q", v.Result)
	default:
		result = fmt.Sprintf("%T", v)
	}
	errText := "<nil>"
	if out.Err != nil {
		errText = out.Err.Error()
	}
	o.ends = append(o.ends, fmt.Sprintf("%s err=%s closedEarly=%t", result, errText, out.ClosedEarly))
}

// lines returns an operation a line, sorted, as the tool calls of a turn
// run concurrently. An operation that did not end once says so.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for _, o := range r.ops {
		end := "never ended"
		if len(o.ends) > 1 {
			end = fmt.Sprintf("ended %d times", len(o.ends))
		} else if len(o.ends) == 1 {
			end = o.ends[0]
		}
		lines = append(lines, o.start+" -> "+end)
	}
	slices.Sort(lines)
	return lines
}

// contexts is a middleware that records the operation method of every
// request's context.
type contexts struct {
	mu  sync.Mutex
	ids []string
}

func (c *contexts) middleware(req *http.Request, next client.Next) (*http.Response, error) {
	c.mu.Lock()
	c.ids = append(c.ids, opMethod(req.Context()))
	c.mu.Unlock()
	return next(req)
}

func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("observed:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestObserverSeesTheRunAndEveryToolCall(t *testing.T) {
	var seen contexts
	fake, c := newFake(t, client.WithMiddleware(seen.middleware))
	errBroken := errors.New("the backend is down")
	tools := []toolrunner.Tool{weatherTool(t),
		mustTool(t, "fail", func(ctx context.Context, _ struct{}) (string, error) {
			if opMethod(ctx) != toolrunner.MethodTool {
				return "", errors.New("the tool does not run in its call's context")
			}
			return "", errBroken
		})}
	fake.Enqueue(scriptedCompletion(t, "", client.Usage{}, toolCall("c1", "get_weather", `{"city":"Oslo"}`),
		toolCall("c2", "fail", "{}"), toolCall("c3", "nope", "{}"), toolCall("c1", "get_weather", `{"city":"Rome"}`)),
		scriptedCompletion(t, "Done.", client.Usage{}))
	var rec recorder
	r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: tools, Observer: &rec, Concurrency: 1}
	if _, err := r.Run(context.Background(), runParams("Hi")); err != nil {
		t.Fatal(err)
	}
	diffLines(t, rec.lines(), []string{
		`toolrunner.Run stream=false model=gpt-oss-120b messages=1 in=- -> turns=2 calls=4 err=<nil> closedEarly=false`,
		`toolrunner.Tool stream=false turn=1 index=0 id=c1 name=get_weather args={"city":"Oslo"} in=toolrunner.Run -> result="{\"city\":\"Oslo\",\"temp_c\":21}" err=<nil> closedEarly=false`,
		`toolrunner.Tool stream=false turn=1 index=1 id=c2 name=fail args={} in=toolrunner.Run -> result="error: the backend is down" err=the backend is down closedEarly=false`,
		`toolrunner.Tool stream=false turn=1 index=2 id=c3 name=nope args={} in=toolrunner.Run -> result="error: there is no tool named \"nope\"; the tools are: get_weather, fail" err=cerebras: the model called an unknown tool "nope" closedEarly=false`,
		`toolrunner.Tool stream=false turn=1 index=3 id=c1 name=get_weather args={"city":"Rome"} in=toolrunner.Run -> result="" err=cerebras: the model repeated a tool call id: c1 closedEarly=false`,
	})
	if got := strings.Join(seen.ids, " "); got != "toolrunner.Run toolrunner.Run" {
		t.Errorf("the completions were sent in the contexts of %s, want the run's", got)
	}
}

func TestObserverSeesStreamingRuns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  func(t *testing.T) []cerebrastest.Response
		breakAt toolrunner.EventKind
		want    []string
	}{{
		name: "read to the end",
		script: func(t *testing.T) []cerebrastest.Response {
			return []cerebrastest.Response{scriptedStream(t, client.Usage{}, toolCall("c1", "get_weather", `{"city":"Oslo"}`)),
				scriptedStream(t, client.Usage{})}
		},
		want: []string{
			`toolrunner.Run stream=true model=gpt-oss-120b messages=1 in=- -> turns=2 calls=1 err=<nil> closedEarly=false`,
			`toolrunner.Tool stream=false turn=1 index=0 id=c1 name=get_weather args={"city":"Oslo"} in=toolrunner.Run -> result="{\"city\":\"Oslo\",\"temp_c\":21}" err=<nil> closedEarly=false`,
		},
	}, {
		name: "broken out of",
		script: func(t *testing.T) []cerebrastest.Response {
			return []cerebrastest.Response{scriptedStream(t, client.Usage{}, toolCall("c1", "get_weather", `{"city":"Oslo"}`))}
		},
		breakAt: toolrunner.CallResult,
		want: []string{
			`toolrunner.Run stream=true model=gpt-oss-120b messages=1 in=- -> turns=1 calls=1 err=<nil> closedEarly=true`,
			`toolrunner.Tool stream=false turn=1 index=0 id=c1 name=get_weather args={"city":"Oslo"} in=toolrunner.Run -> result="{\"city\":\"Oslo\",\"temp_c\":21}" err=<nil> closedEarly=false`,
		},
	}, {
		name: "failed",
		script: func(t *testing.T) []cerebrastest.Response {
			return []cerebrastest.Response{cerebrastest.ErrorResponse(http.StatusBadRequest, "invalid_request_error", "bad", "no")}
		},
		want: []string{
			`toolrunner.Run stream=true model=gpt-oss-120b messages=1 in=- -> turns=0 calls=0 err=cerebras: POST /v1/chat/completions: 400 Bad Request: no (type invalid_request_error, code bad, request id req-fake-1) closedEarly=false`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var seen contexts
			fake, c := newFake(t, client.WithMiddleware(seen.middleware))
			fake.Enqueue(tc.script(t)...)
			var rec recorder
			r := toolrunner.Runner{Chat: c.Chat.Completions, Tools: []toolrunner.Tool{weatherTool(t)}, Observer: &rec}
			for ev, err := range r.Stream(context.Background(), runParams("Hi")) {
				if err != nil || ev.Kind == tc.breakAt {
					break
				}
			}
			diffLines(t, rec.lines(), tc.want)
			for _, id := range seen.ids {
				if id != toolrunner.MethodRun {
					t.Errorf("a completion was sent in the context of %s, not the run's", id)
				}
			}
		})
	}
}

// TestObserverSeesARunThatPanics: a caller's loop that panics while a
// Stream yields still ends the run's operation, once, with an error.
func TestObserverSeesARunThatPanics(t *testing.T) {
	fake, c := newFake(t)
	fake.Enqueue(scriptedCompletion(t, "Done.", client.Usage{}))
	var rec recorder
	r := toolrunner.Runner{Chat: c.Chat.Completions, Observer: &rec}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		for range r.Stream(context.Background(), runParams("Hi")) {
			panic("the caller's bug")
		}
	}()
	diffLines(t, rec.lines(), []string{
		`toolrunner.Run stream=true model=gpt-oss-120b messages=1 in=- -> <nil> err=toolrunner: the run ended in a panic closedEarly=false`,
	})
}
