package batchfile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cerebras-go/cerebras/client"
)

// runRecorder is a client.Observer that records the operations it starts
// and how they end; the context an operation runs in carries its Method.
type runRecorder struct {
	mu    sync.Mutex
	lines []string
}

type runKey struct{}

func (r *runRecorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, s)
}

func (r *runRecorder) Start(ctx context.Context, op client.Operation) (context.Context, client.OperationObserver) {
	params := fmt.Sprintf("%T", op.Params)
	if p, ok := op.Params.(*RunParams); ok {
		params = fmt.Sprintf("concurrency=%d", p.Concurrency)
	}
	r.add(fmt.Sprintf("start %s stream=%t %s", op.Method, op.Stream, params))
	return context.WithValue(ctx, runKey{}, op.Method), runEnd{r}
}

type runEnd struct{ r *runRecorder }

func (runEnd) Attempt(client.Attempt) {}
func (runEnd) Event(any)              {}
func (e runEnd) End(out client.Outcome) {
	p, _ := out.Result.(*Progress)
	if p == nil {
		e.r.add(fmt.Sprintf("end %T err=%v", out.Result, out.Err))
		return
	}
	e.r.add(fmt.Sprintf("end total=%d completed=%d failed=%d err=%v", p.Total, p.Completed, p.Failed, out.Err))
}

// The bulk run is one operation, its requests sent in its context; a run
// refused before it starts is none.
func TestRunLocalObserver(t *testing.T) {
	var mu sync.Mutex
	var in []string // the operation each request's context is in
	_, c := newFake(t, client.WithMiddleware(func(req *http.Request, next client.Next) (*http.Response, error) {
		m, _ := req.Context().Value(runKey{}).(string)
		mu.Lock()
		in = append(in, m)
		mu.Unlock()
		return next(req)
	}))
	var rec runRecorder
	path := filepath.Join(t.TempDir(), "results.jsonl")
	p, err := RunLocal(context.Background(), c.Chat.Completions, strings.NewReader(bulkInput(t, 3, nil)), bulkOutput(t, path),
		RunParams{Concurrency: 2, Observer: &rec})
	if err != nil || p.Completed != 3 {
		t.Fatalf("%+v, %v", p, err)
	}
	if got := strings.Join(in, " "); got != "batchfile.RunLocal batchfile.RunLocal batchfile.RunLocal" {
		t.Errorf("the requests were sent in the contexts of %q, want the run's", got)
	}

	stop := errors.New("the source failed")
	seq := func(yield func(Request, error) bool) {
		if yield(Request{CustomID: "x", Params: batchParams(client.ModelGPTOSS120B, "question x")}, nil) {
			yield(Request{}, stop)
		}
	}
	if _, err := RunLocalSeq(context.Background(), c.Chat.Completions, seq, bulkOutput(t, filepath.Join(t.TempDir(), "r.jsonl")),
		RunParams{Concurrency: 1, Observer: &rec}); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the source's", err)
	}
	if _, err := RunLocalSeq(context.Background(), c.Chat.Completions, seq, nil, RunParams{Observer: &rec}); !errors.Is(err, client.ErrInvalidInput) {
		t.Fatalf("err = %v, want a *ParamError", err)
	}
	want := []string{
		"start batchfile.RunLocal stream=false concurrency=2",
		"end total=3 completed=3 failed=0 err=<nil>",
		"start batchfile.RunLocal stream=false concurrency=1",
		"end total=-1 completed=1 failed=0 err=the source failed",
	}
	if got := strings.Join(rec.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("observed:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
